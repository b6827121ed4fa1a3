// trains.js: station autocomplete, trains between two stations on a date
// with per-class availability (available, RAC, waitlist, fare), the
// passenger form, and PNR status with booked and current status per
// passenger, and cancelling.
import { ApiError, get, money, post } from './api.js';
import { requireUser } from './auth.js';
import { $, $$, esc, every, focusHeading, fmtTime, go, render, showError, showInfo, showOk } from './ui.js';
import { paxStatus } from './checkout.js';

const missingRoute = (e) => e instanceof ApiError && (e.code === 'not_found' || e.code === 'method_not_allowed');
const NOT_YET = 'Train booking is not available on this box office yet.';

function stationField(id, label, value) {
  return `<div class="search">
    <label for="${id}">${label}</label>
    <input id="${id}" name="${id}" value="${esc(value || '')}" placeholder="Station name or code" autocomplete="off"
      role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="${id}-list" required>
    <ul id="${id}-list" class="suggest" role="listbox" aria-label="${label} stations" hidden></ul>
  </div>`;
}

// Station code from "New Delhi (NDLS)" or "NDLS".
export function stationCode(v) {
  const m = /\(([A-Za-z0-9]+)\)\s*$/.exec(v || '');
  return (m ? m[1] : (v || '').trim()).toUpperCase();
}

function wireStation(id) {
  const input = $(`#${id}`);
  const list = $(`#${id}-list`);
  let items = []; let active = -1; let timer = 0; let seq = 0;
  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; };
  const paint = () => {
    list.innerHTML = items.map((s, i) => `<li role="option" id="${id}-o${i}" aria-selected="${i === active}">${esc(s.name)} (${esc(s.code)})${s.state ? ` <span class="muted">${esc(s.state)}</span>` : ''}</li>`).join('');
    list.hidden = !items.length;
    input.setAttribute('aria-expanded', String(!!items.length));
    if (active >= 0) input.setAttribute('aria-activedescendant', `${id}-o${active}`); else input.removeAttribute('aria-activedescendant');
  };
  const choose = (s) => { input.value = `${s.name} (${s.code})`; close(); };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { items = []; close(); return; }
    timer = setTimeout(async () => {
      const my = ++seq;
      try {
        const r = await get(`/api/stations?q=${encodeURIComponent(q)}`, { tries: 1 });
        if (my !== seq) return;
        items = (r.stations || []).slice(0, 8);
      } catch { items = []; }
      active = -1; paint();
    }, 150);
  });
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') { active = (active + 1) % items.length; paint(); e.preventDefault(); }
    else if (e.key === 'ArrowUp') { active = (active - 1 + items.length) % items.length; paint(); e.preventDefault(); }
    else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); choose(items[active]); }
    else if (e.key === 'Escape') close();
  });
  list.addEventListener('mousedown', (e) => {
    const li = e.target.closest('li');
    if (li) { e.preventDefault(); choose(items[Number(li.id.split('-o')[1])]); }
  });
  input.addEventListener('blur', () => setTimeout(close, 120));
}

const dur = (m) => `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;

export async function trains({ query }) {
  const from = query.get('from') || ''; const to = query.get('to') || '';
  const date = query.get('date') || new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  render(`
    <h1>Trains</h1>
    <form id="tf" class="card" aria-label="Search trains">
      <div class="row">
        ${stationField('from', 'From', query.get('from_label') || from)}
        ${stationField('to', 'To', query.get('to_label') || to)}
        <div><label for="date">Date</label><input id="date" type="date" value="${esc(date)}" required></div>
        <button type="submit">Find trains</button>
      </div>
      <p class="muted">Already booked? <a href="#/pnr">Check your PNR status</a></p>
    </form>
    <p id="msg" class="alert" aria-live="assertive"></p>
    <div id="results"></div>`, 'Trains');
  focusHeading();
  wireStation('from');
  wireStation('to');
  $('#tf').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = stationCode($('#from').value); const t = stationCode($('#to').value);
    if (!f || !t) { showError($('#msg'), 'Please choose where you leave from and where you are going.'); return; }
    if (f === t) { showError($('#msg'), 'Please choose two different stations.'); return; }
    const p = new URLSearchParams({ from: f, to: t, date: $('#date').value, from_label: $('#from').value, to_label: $('#to').value });
    go(`#/trains?${p}`);
  });
  if (!from || !to) return;
  let r;
  try {
    r = await get(`/api/trains/search?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&date=${encodeURIComponent(date)}`);
  } catch (e) {
    showError($('#msg'), missingRoute(e) ? NOT_YET : e);
    return;
  }
  const list = r.trains || [];
  if (!list.length) { $('#results').innerHTML = `<p>No trains run from ${esc(from)} to ${esc(to)} on ${esc(date)}. Try another date.</p>`; return; }
  $('#results').innerHTML = `<h2>${list.length} train${list.length === 1 ? '' : 's'} from ${esc(from)} to ${esc(to)}</h2>` + list.map((t) => `
    <section class="card train" aria-label="${esc(t.number)} ${esc(t.name)}">
      <h3>${esc(t.number)} ${esc(t.name)}</h3>
      <p>${esc(fmtTime(t.departs_at))} → ${esc(fmtTime(t.arrives_at))} · ${esc(dur(t.duration_min || 0))}${t.distance_km ? ` · ${t.distance_km} km` : ''}</p>
      <div class="table-wrap"><table>
        <thead><tr><th>Class</th><th>Quota</th><th class="num">Available</th><th class="num">RAC</th><th class="num">Waitlist</th><th>Status</th><th class="num">Fare</th><th></th></tr></thead>
        <tbody>${(t.classes || []).map((c) => {
          const p = new URLSearchParams({ from, to, class: c.class, quota: c.quota || 'GN' });
          const what = c.available > 0 ? `${c.available} available` : c.rac > 0 ? `RAC ${c.rac}` : `Waitlist ${c.waitlist}`;
          return `<tr><td><strong>${esc(c.class)}</strong></td><td>${esc(c.quota || 'GN')}</td>
            <td class="num">${esc(c.available)}</td><td class="num">${esc(c.rac ?? 0)}</td><td class="num">${esc(c.waitlist ?? 0)}</td>
            <td>${esc(c.status || what)}</td>
            <td class="num">${esc(money(c.fare, c.currency || 'INR'))}</td>
            <td><a class="button secondary" href="#/train/${encodeURIComponent(t.number)}/${encodeURIComponent(date)}?${p}" aria-label="Book ${esc(c.class)} on ${esc(t.number)} (${esc(what)})">Book</a></td></tr>`;
        }).join('')}</tbody>
      </table></div>
    </section>`).join('');
}

function passengerFields(i) {
  return `<fieldset class="passenger" data-i="${i}"><legend>Passenger ${i + 1}</legend>
    <div class="row">
      <div><label for="p${i}-name">Full name</label><input id="p${i}-name" autocomplete="off" required></div>
      <div><label for="p${i}-age">Age</label><input id="p${i}-age" type="number" min="1" max="120" inputmode="numeric" required></div>
      <div><label for="p${i}-gender">Gender</label><select id="p${i}-gender"><option value="F">Female</option><option value="M">Male</option><option value="T">Other</option></select></div>
      <div><label for="p${i}-berth">Berth preference</label><select id="p${i}-berth"><option value="">No preference</option><option value="LB">Lower</option><option value="MB">Middle</option><option value="UB">Upper</option><option value="SL">Side lower</option><option value="SU">Side upper</option></select></div>
    </div></fieldset>`;
}

export async function train({ parts, query }) {
  const [, number, date] = parts;
  const from = query.get('from'); const to = query.get('to');
  const cls = query.get('class'); const quota = query.get('quota') || 'GN';
  if (!(await requireUser('Sign in to book a train.'))) return;
  let run = null;
  try { run = await get(`/api/trains/${encodeURIComponent(number)}/runs/${encodeURIComponent(date)}`); } catch { run = null; }
  render(`
    <h1>Book ${esc(number)}${run?.name ? ` ${esc(run.name)}` : ''}</h1>
    <p>${esc(from)} → ${esc(to)} · ${esc(date)} · class <strong>${esc(cls)}</strong> · quota ${esc(quota)}</p>
    <form id="bf" aria-label="Passengers">
      <div id="pax">${passengerFields(0)}</div>
      <div class="actions"><button type="button" class="secondary" id="add">Add a passenger</button>
        <button type="button" class="secondary" id="remove" hidden>Remove the last passenger</button></div>
      <p id="msg" class="alert" aria-live="assertive"></p>
      <div class="actions"><button type="submit" id="book">Continue to payment</button></div>
    </form>`, `Book ${number}`);
  focusHeading();
  let n = 1;
  const sync = () => { $('#remove').hidden = n <= 1; $('#add').hidden = n >= 6; };
  $('#add').addEventListener('click', () => { $('#pax').insertAdjacentHTML('beforeend', passengerFields(n)); n++; sync(); $(`#p${n - 1}-name`).focus(); });
  $('#remove').addEventListener('click', () => { $$('#pax fieldset').pop().remove(); n--; sync(); });
  $('#bf').addEventListener('submit', async (e) => {
    e.preventDefault();
    const passengers = [];
    for (let i = 0; i < n; i++) {
      const name = $(`#p${i}-name`).value.trim();
      const age = Number($(`#p${i}-age`).value);
      if (!name) { showError($('#msg'), `Please enter the name of passenger ${i + 1}.`); $(`#p${i}-name`).focus(); return; }
      if (!(age >= 1 && age <= 120)) { showError($('#msg'), `Please enter the age of passenger ${i + 1} (1 to 120).`); $(`#p${i}-age`).focus(); return; }
      const p = { name, age, gender: $(`#p${i}-gender`).value };
      if ($(`#p${i}-berth`).value) p.berth_preference = $(`#p${i}-berth`).value;
      passengers.push(p);
    }
    const btn = $('#book');
    btn.disabled = true;
    try {
      const b = await post(`/api/trains/${encodeURIComponent(number)}/runs/${encodeURIComponent(date)}/bookings`, { from, to, class: cls, quota, passengers });
      sessionStorage.setItem(`hold:${b.hold_id}`, JSON.stringify({
        title: `Train ${number} · ${from} → ${to} · ${date} · PNR ${b.pnr}`,
        passengers: (b.passengers || []).map((p, i) => ({ ...p, name: passengers[i]?.name })),
        pnr: b.pnr, back: `#/trains?from=${from}&to=${to}&date=${date}`,
      }));
      sessionStorage.setItem(`pnr-of-hold:${b.hold_id}`, b.pnr);
      go(`#/hold/${b.hold_id}`);
    } catch (err) {
      showError($('#msg'), missingRoute(err) ? NOT_YET : err);
      btn.disabled = false;
    }
  });
}

export async function pnr({ parts }) {
  const code = parts[1] || '';
  render(`
    <h1>PNR status</h1>
    <form id="pf" class="card narrow" role="search">
      <label for="pnr-in">PNR number</label>
      <div class="search-box"><input id="pnr-in" value="${esc(code)}" inputmode="numeric" autocomplete="off" required><button type="submit">Check</button></div>
    </form>
    <p id="msg" class="alert" aria-live="assertive"></p>
    <div id="out"></div>`, code ? `PNR ${code}` : 'PNR status');
  focusHeading();
  $('#pf').addEventListener('submit', (e) => { e.preventDefault(); const v = $('#pnr-in').value.trim(); if (v) go(`#/pnr/${encodeURIComponent(v)}`); });
  if (!code) return;
  const show = async () => {
    let b;
    try {
      b = await get(`/api/pnr/${encodeURIComponent(code)}`);
    } catch (e) {
      showError($('#msg'), missingRoute(e) ? NOT_YET : e.status === 404 ? 'We could not find a booking with that PNR.' : e);
      return;
    }
    const pax = b.passengers || [];
    const booked = (p) => {
      const bs = p.booking_status;
      if (!bs) return '';
      return paxStatus(typeof bs === 'string' ? { status: bs } : bs);
    };
    const current = (p) => paxStatus(p.current_status ? (typeof p.current_status === 'string' ? { status: p.current_status, coach: p.coach, berth: p.berth, position: p.position } : p.current_status) : p);
    const HOLD_WORDS = { active: 'awaiting payment', converted: 'booked and paid', expired: 'not paid in time', released: 'given up', canceled: 'cancelled', cancelled: 'cancelled' };
    const tr = b.train || {};
    const from = b.from?.code ? `${b.from.name} (${b.from.code})` : b.from || '';
    const to = b.to?.code ? `${b.to.name} (${b.to.code})` : b.to || '';
    const live = pax.some((p) => (typeof p.status === 'string' ? p.status : p.status?.status) !== 'CAN');
    $('#out').innerHTML = `
      <section class="card">
        <p><strong>PNR ${esc(b.pnr || code)}</strong> · train ${esc(tr.number || b.train_number || '')} ${esc(tr.name || b.train_name || '')}</p>
        <p>${esc(from)} → ${esc(to)} · ${esc(b.date || '')} · class ${esc(b.class || '')} · quota ${esc(b.quota || '')}</p>
        <p>Booking: <span class="status" id="pnr-status">${esc(HOLD_WORDS[b.status] || b.status || '')}</span>${b.chart_prepared ? ' · chart prepared' : ''}</p>
        <div class="table-wrap"><table id="pax-table">
          <thead><tr><th>Passenger</th><th>Booked as</th><th>Now</th></tr></thead>
          <tbody>${pax.map((p, i) => `<tr><td>${esc(p.name || `Passenger ${i + 1}`)}${p.age ? ` (${esc(p.age)})` : ''}</td>
            <td>${booked(p)}</td><td class="current">${current(p)}</td></tr>`).join('')}</tbody>
        </table></div>
        <p class="muted">CNF: confirmed berth (coach/berth). RAC: shares a side berth, moves up to a berth on cancellations. WL: waitlisted, number in line.</p>
        ${b.amount != null ? `<p>Fare: ${esc(money(b.amount, b.currency || 'INR'))}</p>` : ''}
      </section>
      ${live && b.status === 'converted' ? '<div class="actions"><button type="button" class="danger" id="cancel">Cancel this booking</button></div>' : ''}`;
    const cancel = $('#cancel');
    if (cancel) {
      cancel.addEventListener('click', async () => {
        if (!(await requireUser('Sign in to cancel.'))) return;
        if (!cancel.dataset.sure) {
          cancel.dataset.sure = '1';
          cancel.textContent = 'Yes, cancel and refund';
          showInfo($('#msg'), 'Are you sure? Every passenger on this PNR loses their place, and the fare is refunded.');
          return;
        }
        cancel.disabled = true;
        try {
          await post(`/api/pnr/${encodeURIComponent(code)}/cancel`, {});
          showOk($('#msg'), 'Cancelled. The fare will be refunded to your card.');
          await show();
        } catch (e) {
          showError($('#msg'), e);
          cancel.disabled = false;
        }
      });
    }
  };
  await show();
  // Waitlisted and RAC passengers move up as others cancel: keep looking.
  every(5000, () => {
    if (document.hidden || $('#cancel')?.dataset.sure) return;
    if ($$('#pax-table .status.WL, #pax-table .status.RAC').length) show();
  });
}
