// checkout.js: the hold with its countdown, paying with the sandbox's test
// cards, the confirmation with tickets and their QR codes, and my orders
// with cancel and refund.
import { ApiError, del, get, money, paymentErrorText, post, randomKey, serverNow, when } from './api.js';
import { requireUser } from './auth.js';
import { qrCanvas } from './qr.js';
import { $, clearMsg, esc, every, fmtDuration, focusHeading, go, render, showError, showInfo, showOk } from './ui.js';

export const TEST_CARDS = [
  ['pm_card_visa', 'Visa ending 4242 (pays)'],
  ['pm_card_mastercard', 'Mastercard ending 4444 (pays)'],
  ['pm_card_amex', 'American Express ending 8431 (pays)'],
  ['pm_card_visa_chargeDeclined', 'Visa ending 0002 (declined)'],
  ['pm_card_visa_chargeDeclinedInsufficientFunds', 'Visa, insufficient funds (declined)'],
  ['pm_card_visa_chargeDeclinedExpiredCard', 'Visa, expired card (declined)'],
  ['pm_card_visa_chargeDeclinedIncorrectCvc', 'Visa, wrong security code (declined)'],
];

// A route that does not exist on this server yet (as opposed to a missing thing).
const missingRoute = (e) => e instanceof ApiError && (e.code === 'not_found' || e.code === 'method_not_allowed');

export function seatLabel(s) {
  if (!s) return '';
  if (typeof s === 'string') return s;
  if (s.coach || s.berth) return `Coach ${s.coach} · berth ${s.berth}`;
  return `${s.section} · row ${s.row} · seat ${s.number}`;
}

// "CNF B1/23", "RAC 2", "WL 5" from a passenger's (current) status.
export function paxStatus(p) {
  const st = typeof p.status === 'object' && p.status ? p.status : p;
  const code = typeof p.status === 'string' ? p.status : st.status || '';
  const where = code === 'CNF' || (code === 'RAC' && st.coach) ? [st.coach, st.berth].filter(Boolean).join('/') : st.position ? String(st.position) : '';
  return `<span class="status ${esc(code)}">${esc(code)}</span> ${esc(where)}`;
}

export async function hold({ parts }) {
  const id = Number(parts[1]);
  if (!(await requireUser('Sign in to see your hold.'))) return;
  let h;
  try {
    h = await get(`/api/holds/${id}`);
  } catch (e) {
    if (e.code === 'hold_not_found') {
      render(`<h1>Hold not found</h1><p class="alert error" role="alert">${esc(e.friendly)}</p><p><a href="#/">Back to events</a></p>`, 'Hold');
      return;
    }
    throw e;
  }
  const stored = JSON.parse(sessionStorage.getItem(`hold:${id}`) || 'null') || {};
  let title = stored.event_title || stored.title || '';
  if (!title && h.event_id) {
    try { title = (await get(`/api/events/${h.event_id}`)).title; } catch { /* fine without */ }
  }
  if (h.kind === 'train' && h.train) {
    title = `Train ${h.train.number} ${h.train.name || ''} · ${h.from?.code || ''} → ${h.to?.code || ''} · ${h.date || ''}${h.pnr ? ` · PNR ${h.pnr}` : ''}`;
    if (h.pnr) sessionStorage.setItem(`pnr-of-hold:${id}`, h.pnr);
  }
  const backHref = h.event_id ? `#/event/${h.event_id}` : stored.back || '#/trains';
  const seats = (h.seats || []).slice().sort((a, b) => (a.section || '').localeCompare(b.section || '')
    || String(a.row).length - String(b.row).length || String(a.row).localeCompare(String(b.row)) || a.number - b.number);
  const passengers = h.passengers || stored.passengers || [];
  render(`
    <h1>Your hold${title ? `: ${esc(title)}` : ''}</h1>
    <section class="card timer-card" aria-labelledby="timer-h">
      <div class="timer"><h2 id="timer-h" class="visually-hidden">Time left</h2>
        <span>Held for you for</span> <span id="countdown" class="countdown" role="timer" aria-live="off">--:--</span>
      </div>
      <p id="timer-note" class="muted">We keep these for you until ${esc(when(h.expires_at))}. After that anyone can buy them.</p>
      <p id="timer-live" class="visually-hidden" aria-live="assertive"></p>
    </section>
    <section class="card">
      <h2>${seats.length ? 'Seats' : 'Passengers'}</h2>
      <div class="table-wrap"><table>
        ${seats.length ? `<thead><tr><th>Seat</th><th>Category</th><th class="num">Price</th></tr></thead>
        <tbody>${seats.map((s) => `<tr><td>${esc(seatLabel(s))}</td><td>${esc(s.category || '')}</td><td class="num">${s.price != null ? esc(money(s.price, h.currency)) : ''}</td></tr>`).join('')}</tbody>`
    : `<tbody>${passengers.map((p) => `<tr><td>${esc(p.name || 'Passenger')}</td><td>${paxStatus(p)}</td></tr>`).join('')}</tbody>`}
        <tfoot><tr><th colspan="${seats.length ? 2 : 1}">Total</th><td class="num"><strong>${esc(money(h.amount, h.currency))}</strong></td></tr></tfoot>
      </table></div>
    </section>
    <p id="msg" class="alert" aria-live="assertive"></p>
    <form id="pay" class="card" aria-labelledby="pay-h">
      <h2 id="pay-h">Pay</h2>
      <p class="muted">This is a test box office: pick one of the sandbox's test cards. No real money moves.</p>
      <fieldset><legend>Card</legend>
        <ul class="pay-methods">${TEST_CARDS.map(([pm, label], i) => `<li><label><input type="radio" name="pm" value="${pm}" ${i === 0 ? 'checked' : ''}> ${esc(label)}</label></li>`).join('')}</ul>
      </fieldset>
      <div class="actions">
        <button type="submit" id="pay-btn">Pay ${esc(money(h.amount, h.currency))}</button>
        <button type="button" class="secondary" id="release">${seats.length ? 'Release these seats' : 'Give up this booking'}</button>
      </div>
    </form>`, 'Your hold');
  focusHeading();
  const msg = $('#msg');
  const payBtn = $('#pay-btn');
  const deadline = Date.parse(h.expires_at);
  let expired = false;
  let orderId = Number(sessionStorage.getItem(`order-of-hold:${id}`)) || null;

  const expire = (text) => {
    expired = true;
    $('#countdown').textContent = '0:00';
    $('#countdown').classList.add('low');
    $('#timer-note').textContent = 'Time is up.';
    payBtn.disabled = true;
    $('#release').hidden = true;
    $('#pay').hidden = true;
    showError(msg, text || new ApiError(410, { error: { code: 'hold_expired' } }).friendly);
    const a = document.createElement('a');
    a.href = backHref;
    a.className = 'button';
    a.textContent = 'Pick seats again';
    a.id = 'again';
    msg.after(a);
  };
  if (h.status && h.status !== 'active') {
    if (h.status === 'converted') {
      showInfo(msg, 'You have already checked out these seats.');
      payBtn.disabled = !orderId;
    } else if (h.status === 'released') {
      expire('You released these seats. Pick seats again if you changed your mind.');
    } else expire();
    if (h.status !== 'converted') return;
  }
  const announced = new Set();
  const tick = () => {
    if (expired) return;
    const left = (deadline - serverNow()) / 1000;
    const cd = $('#countdown');
    if (!cd) return;
    cd.textContent = fmtDuration(Math.ceil(left));
    cd.classList.toggle('low', left < 60);
    for (const mark of [300, 120, 60, 30, 10]) {
      if (left <= mark && left > mark - 2 && !announced.has(mark)) {
        announced.add(mark);
        $('#timer-live').textContent = `${fmtDuration(mark)} left to pay.`;
      }
    }
    if (left <= 0) {
      expire();
      // Confirm with the server, quietly.
      get(`/api/holds/${id}`, { tries: 2 }).catch(() => {});
    }
  };
  tick();
  every(250, tick);

  $('#release').addEventListener('click', async () => {
    try {
      await del(`/api/holds/${id}`);
      go(backHref);
    } catch (e) { showError(msg, e); }
  });

  $('#pay').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (expired) return;
    clearMsg(msg);
    const pm = new FormData(e.currentTarget).get('pm');
    payBtn.disabled = true;
    payBtn.textContent = 'Paying…';
    try {
      if (!orderId) {
        let key = sessionStorage.getItem(`idem:${id}`);
        if (!key) { key = randomKey(); sessionStorage.setItem(`idem:${id}`, key); }
        const co = await post(`/api/holds/${id}/checkout`, {}, { headers: { 'Idempotency-Key': key } });
        orderId = co.order.id;
        sessionStorage.setItem(`order-of-hold:${id}`, String(orderId));
      }
      let order;
      try {
        order = await post(`/api/orders/${orderId}/pay`, { payment_method: pm });
      } catch (err) {
        if (err.code === 'network') {
          // We cannot know whether the charge went through: ask the order.
          showInfo(msg, 'The connection dropped while paying. Checking whether your payment went through…');
          order = await get(`/api/orders/${orderId}`);
        } else throw err;
      }
      if (order.status === 'paid') {
        showOk(msg, 'Paid. Here are your tickets.');
        const pnrCode = sessionStorage.getItem(`pnr-of-hold:${id}`);
        go(pnrCode ? `#/pnr/${encodeURIComponent(pnrCode)}` : `#/order/${orderId}`);
        return;
      }
      if (order.payment_error) {
        showError(msg, paymentErrorText(order.payment_error));
      } else if (order.status === 'pending_payment') {
        showInfo(msg, 'Your payment is being processed. We will show your tickets as soon as it is confirmed.');
        pollOrder(orderId, msg);
      } else if (order.status === 'expired') {
        expire(new ApiError(410, { error: { code: 'order_expired' } }).friendly);
      } else {
        showError(msg, `Your order is ${order.status.replace('_', ' ')}.`);
      }
    } catch (err) {
      if (missingRoute(err)) showError(msg, 'Paying is not available on this box office yet (the checkout service is missing). Your seats stay held until the timer runs out.');
      else if (err.code === 'hold_expired' || err.code === 'order_expired') expire(err.friendly);
      else showError(msg, err);
    } finally {
      payBtn.textContent = `Pay ${money(h.amount, h.currency)}`;
      if (!expired) payBtn.disabled = false;
    }
  });
}

function pollOrder(orderId, msg) {
  let n = 0;
  const t = every(1500, async () => {
    if (++n > 40) { clearInterval(t); return; }
    try {
      const o = await get(`/api/orders/${orderId}`, { tries: 1 });
      if (o.status === 'paid') { clearInterval(t); go(`#/order/${orderId}`); }
      else if (o.payment_error) { clearInterval(t); showError(msg, paymentErrorText(o.payment_error)); }
    } catch { /* keep trying */ }
  });
}

export async function order({ parts }) {
  const id = Number(parts[1]);
  if (!(await requireUser('Sign in to see your order.'))) return;
  let o;
  try {
    o = await get(`/api/orders/${id}`);
  } catch (e) {
    if (missingRoute(e) || e.code === 'order_not_found') {
      render(`<h1>Order ${id}</h1><p class="alert error" role="alert">${esc(missingRoute(e) ? 'Orders are not available on this box office yet.' : e.friendly)}</p>`, 'Order');
      return;
    }
    throw e;
  }
  const tickets = o.tickets || [];
  render(`
    <h1>${o.status === 'paid' ? 'You are going!' : `Order ${o.id}`}</h1>
    ${o.status === 'pending_payment' && o.hold_id ? `<p class="alert info">This order is waiting for payment. <a href="#/hold/${o.hold_id}">Pay now</a></p>` : ''}
    <p id="msg" class="alert" aria-live="assertive"></p>
    <section class="card">
      <p>Order <strong>#${o.id}</strong>${o.event?.title || o.event_title ? ` · ${esc(o.event?.title || o.event_title)}` : ''} · status <span class="status ${esc(o.status)}" id="order-status">${esc(o.status.replace('_', ' '))}</span> · ${esc(money(o.amount, o.currency))}</p>
      ${o.status === 'paid' ? '<p>Show the QR code of each ticket at the door. We have also kept them under <a href="#/orders">My orders</a>.</p>' : ''}
      ${o.status === 'refunded' ? '<p>This order was cancelled and refunded; its tickets are no longer valid.</p>' : ''}
    </section>
    ${tickets.length ? `<h2>Tickets</h2><ul class="tickets" id="tickets"></ul>` : ''}
    <div class="actions" id="order-actions">
      ${o.status === 'paid' ? '<button type="button" class="danger" id="cancel">Cancel and refund this order</button>' : ''}
      <a href="#/orders" class="button secondary">My orders</a>
    </div>`, `Order ${o.id}`);
  focusHeading();
  const ul = $('#tickets');
  for (const t of tickets) {
    const li = document.createElement('li');
    li.className = 'ticket';
    const info = document.createElement('div');
    info.innerHTML = `<p><strong>${esc(seatLabel(t.seat))}</strong></p><p>Ticket code<br><code class="ticket-code">${esc(t.code)}</code></p>`;
    try { li.append(qrCanvas(t.code)); } catch { /* a code too long for our QR sizes: the text stays */ }
    li.append(info);
    ul.append(li);
  }
  const cancel = $('#cancel');
  if (cancel) {
    cancel.addEventListener('click', async () => {
      if (!cancel.dataset.sure) {
        cancel.dataset.sure = '1';
        cancel.textContent = 'Yes, cancel it: refund me and free the seats';
        showInfo($('#msg'), 'Are you sure? Your tickets will stop working and the money goes back to your card.');
        return;
      }
      cancel.disabled = true;
      try {
        const r = await post(`/api/orders/${id}/cancel`, {});
        // Show the order as it is now (its tickets no longer count).
        await order({ parts });
        showOk($('#msg'), r.status === 'canceled'
          ? 'Cancelled. You were not charged for this order.'
          : `Cancelled. ${money(r.amount ?? o.amount, r.currency || o.currency)} will be refunded to your card.`);
      } catch (e) {
        showError($('#msg'), missingRoute(e) ? 'Cancelling is not available on this box office yet.' : e);
        cancel.disabled = false;
      }
    });
  }
}

export async function orders() {
  if (!(await requireUser('Sign in to see your orders.'))) return;
  render('<h1>My orders</h1><p id="msg" class="alert"></p><div id="list" class="table-wrap"><p class="loading">Loading…</p></div>', 'My orders');
  focusHeading();
  let r;
  try {
    r = await get('/api/orders');
  } catch (e) {
    $('#list').innerHTML = '';
    showError($('#msg'), missingRoute(e) ? 'Your order history is not available on this box office yet. Your tickets are on the confirmation page of each order.' : e);
    return;
  }
  const list = Array.isArray(r) ? r : r.orders || [];
  if (!list.length) {
    $('#list').innerHTML = '<p>No orders yet. <a href="#/">Find something to see</a>.</p>';
    return;
  }
  $('#list').innerHTML = `<table><thead><tr><th>Order</th><th>What</th><th>When</th><th>Status</th><th class="num">Amount</th></tr></thead><tbody>
    ${list.map((o) => `<tr><td><a href="#/order/${o.id}">#${o.id}</a></td>
      <td>${esc(o.event?.title || o.event_title || o.title || (o.pnr ? `Train PNR ${o.pnr}` : o.kind === 'train' ? 'Train booking' : ''))}${o.tickets ? ` · ${o.tickets.length} ticket${o.tickets.length === 1 ? '' : 's'}` : ''}</td>
      <td>${esc(when(o.created_at || o.event?.starts_at))}</td>
      <td><span class="status ${esc(o.status)}">${esc(String(o.status).replace('_', ' '))}</span></td>
      <td class="num">${esc(money(o.amount, o.currency))}</td></tr>`).join('')}
    </tbody></table>`;
}
