// event.js: one event: details, prices, the seat map, best available, and
// taking a hold on the picked seats.
import { ApiError, currentUser, get, money, post, when } from './api.js';
import { SeatMap } from './seatmap.js';
import { $, esc, every, focusHeading, go, onLeave, render, showError, showInfo, clearMsg } from './ui.js';

export function queueLink(eventId) {
  return `#/queue/${eventId}`;
}

export async function event({ parts }) {
  const id = Number(parts[1]);
  render('<p class="loading">Loading the event…</p>', 'Event');
  const ev = await get(`/api/events/${id}`);
  const [venue, seatMap] = await Promise.all([get(`/api/venues/${ev.venue.id}`), get(`/api/events/${id}/seats`)]);
  const currency = ev.currency || ev.prices[0]?.currency || 'INR';
  const wr = ev.waiting_room && (ev.waiting_room.enabled ?? ev.waiting_room === true);
  const prices = ev.prices || [];
  const onSale = ev.on_sale !== false;
  const max = ev.max_per_user || 8;
  render(`
    <div class="event-head">
      <h1>${esc(ev.title)}</h1>
      <p>${esc(ev.performer)} · <strong>${esc(ev.venue.name)}</strong>, ${esc(ev.venue.city)}</p>
      <p>${esc(when(ev.starts_at))} · <span class="badge">${esc(ev.category)}</span> · <span id="avail">${ev.available} seats left</span></p>
      ${ev.description ? `<p class="muted">${esc(ev.description)}</p>` : ''}
    </div>
    <p id="msg" class="alert" aria-live="assertive"></p>
    ${!onSale ? `<p class="alert info">Tickets go on sale ${esc(when(ev.on_sale_at))}.</p>` : ''}
    ${wr ? `<p class="alert info">This sale uses a waiting room so that everyone gets a fair turn. <a href="${queueLink(id)}">Join the queue</a></p>` : ''}
    <div class="event-page">
      <section aria-labelledby="map-h">
        <h2 id="map-h">Pick your seats</h2>
        <div id="map"></div>
      </section>
      <aside>
        <form id="best" class="card" aria-labelledby="best-h">
          <h2 id="best-h">Best available</h2>
          <div class="row">
            <div><label for="qty">Tickets</label>
              <select id="qty">${Array.from({ length: max }, (_, i) => `<option value="${i + 1}" ${i === 1 ? 'selected' : ''}>${i + 1}</option>`).join('')}</select></div>
            <div><label for="cat">Category</label>
              <select id="cat">${prices.map((p) => `<option value="${esc(p.category)}">${esc(p.category)} · ${esc(money(p.amount, p.currency || currency))}</option>`).join('')}</select></div>
          </div>
          <div class="actions"><button type="submit" id="best-btn" ${onSale ? '' : 'disabled'}>Find best seats</button></div>
        </form>
        <section class="card" aria-labelledby="pick-h">
          <h2 id="pick-h">Your picks</h2>
          <p id="none" class="muted">No seats picked yet. Pick up to ${max} on the map.</p>
          <ul id="picked" class="picked"></ul>
          <p id="total" aria-live="polite"></p>
          <div class="actions"><button type="button" id="hold-btn" disabled>Hold these seats</button></div>
        </section>
      </aside>
    </div>
    <div class="pick-bar" id="pick-bar" hidden><span id="bar-total"></span><button type="button" id="bar-hold"></button></div>`, ev.title);
  focusHeading();
  const msg = $('#msg');

  const sm = new SeatMap($('#map'), {
    venue, seats: seatMap.seats, prices, currency, money, maxSelect: max,
    onChange: (picked) => {
      $('#none').hidden = picked.length > 0;
      $('#picked').innerHTML = picked.map((s) => `<li><span>${esc(s.section)} · row ${esc(s.row)} · seat ${s.number} <span class="muted">(${esc(s.category)})</span></span>
        <button type="button" class="secondary" data-id="${s.id}" aria-label="Remove ${esc(s.section)} row ${esc(s.row)} seat ${s.number}">Remove</button></li>`).join('');
      const total = picked.reduce((a, s) => a + (sm.priceOf.get(s.category) || 0), 0);
      $('#total').textContent = picked.length ? `${picked.length} seat${picked.length > 1 ? 's' : ''} · ${money(total, currency)}` : '';
      $('#hold-btn').disabled = !picked.length || !onSale;
      // On a phone the picks are far below the map: a bar keeps them in reach.
      $('#pick-bar').hidden = !picked.length || !onSale;
      $('#bar-total').textContent = $('#total').textContent;
      $('#bar-hold').textContent = `Hold ${picked.length} seat${picked.length > 1 ? 's' : ''}`;
    },
  });
  window.boxofficeSeatMap = sm; // for tests and the curious
  const kept = JSON.parse(sessionStorage.getItem(`picks:${id}`) || '[]');
  sessionStorage.removeItem(`picks:${id}`);
  for (const sid of kept) {
    const s = sm.byId.get(sid);
    if (s && s.status === 'available' && sm.selected.size < max) sm.selected.add(sid);
  }
  if (kept.length) { sm.onChange(sm.selectedSeats()); sm.draw(); }
  onLeave(() => { sm.destroy(); if (window.boxofficeSeatMap === sm) window.boxofficeSeatMap = null; });
  $('#picked').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-id]');
    if (b) sm.unselect(Number(b.dataset.id));
  });

  // Keep the map honest while the buyer looks at it.
  const refresh = async () => {
    if (document.hidden) return;
    try {
      const r = await get(`/api/events/${id}/seats`, { tries: 2 });
      sm.update(r.seats);
      $('#avail').textContent = `${r.seats.filter((s) => s.status === 'available').length} seats left`;
    } catch { /* the banner has said it */ }
  };
  every(seatMap.seats.length > 5000 ? 30000 : 10000, refresh);

  const takeHold = async (body, btn) => {
    clearMsg(msg);
    const u = await currentUser();
    if (!u) {
      // Keep the picks across signing in.
      sessionStorage.setItem(`picks:${id}`, JSON.stringify([...sm.selected]));
      go(`#/signin?next=${encodeURIComponent(`#/event/${id}`)}&why=${encodeURIComponent('Sign in to hold seats. Your seats are not held yet.')}`);
      return;
    }
    btn.disabled = true;
    const label = btn.textContent;
    btn.textContent = 'Holding…';
    try {
      const hold = await post(`/api/events/${id}/holds`, body);
      sessionStorage.setItem(`hold:${hold.id}`, JSON.stringify({ ...hold, event_title: ev.title }));
      go(`#/hold/${hold.id}`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 'seats_unavailable') {
        sm.markTaken(e.details.unavailable || []);
        refresh();
      } else if (e.code === 'sold_out') refresh();
      if (e.code === 'unauthorized') {
        go(`#/signin?next=${encodeURIComponent(`#/event/${id}`)}`);
        return;
      }
      showError(msg, e);
      if (e.code === 'not_admitted') {
        const a = document.createElement('a');
        a.href = queueLink(id);
        a.textContent = ' Join the queue now.';
        msg.append(a);
      }
      if (e.code === 'limit_exceeded' && e.details.message) msg.append(` (${e.details.message})`);
      msg.scrollIntoView({ block: 'nearest' });
    } finally {
      btn.textContent = label;
      btn.disabled = false;
      if (btn.id === 'hold-btn') btn.disabled = sm.selected.size === 0;
    }
  };

  $('#hold-btn').addEventListener('click', (e) => takeHold({ seat_ids: [...sm.selected] }, e.currentTarget));
  $('#bar-hold').addEventListener('click', (e) => takeHold({ seat_ids: [...sm.selected] }, e.currentTarget));
  $('#best').addEventListener('submit', (e) => {
    e.preventDefault();
    takeHold({ quantity: Number($('#qty').value), category: $('#cat').value }, $('#best-btn'));
  });
  if (!onSale) showInfo(msg, `Tickets go on sale ${when(ev.on_sale_at)}. You can look at the seats now.`);
}
