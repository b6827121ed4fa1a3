// admin.js: for box office staff: create an event (and, if needed, a simple
// venue) with its prices and sale settings; the live view of an event on
// sale (sold, held and available over time, as a chart).
import { get, patch, post, when } from './api.js';
import { requireUser } from './auth.js';
import { $, esc, every, focusHeading, go, render, showError, showOk } from './ui.js';

async function requireAdmin() {
  const u = await requireUser('Sign in as box office staff.');
  if (!u) return false;
  if (!u.is_admin) {
    render('<h1>Staff only</h1><p class="alert error" role="alert">These pages are for box office staff. You are signed in as a buyer.</p>', 'Staff only');
    return false;
  }
  return true;
}

const toLocalInput = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : undefined);

export async function admin() {
  if (!(await requireAdmin())) return;
  const evs = (await get('/api/events?per_page=100')).events;
  const venues = new Map();
  for (const e of evs) venues.set(e.venue.id, e.venue);
  render(`
    <h1>Box office admin</h1>
    <p id="msg" class="alert" aria-live="assertive"></p>
    <form id="ef" class="card" aria-labelledby="new-h">
      <h2 id="new-h">Create an event</h2>
      <div class="row">
        <div><label for="title">Title</label><input id="title" required></div>
        <div><label for="performer">Performer</label><input id="performer" required></div>
        <div><label for="category">Category</label><input id="category" value="concert" required></div>
      </div>
      <div class="row">
        <div><label for="venue">Venue</label><select id="venue">
          ${[...venues.values()].map((v) => `<option value="${v.id}">${esc(v.name)}, ${esc(v.city)}</option>`).join('')}
          <option value="new">A new small venue…</option></select></div>
        <div><label for="starts_at">Starts</label><input id="starts_at" type="datetime-local" required></div>
      </div>
      <fieldset id="newvenue" hidden><legend>New venue</legend>
        <div class="row">
          <div><label for="v-name">Name</label><input id="v-name"></div>
          <div><label for="v-city">City</label><input id="v-city"></div>
          <div><label for="v-sections">Sections <span class="hint">(one per price category)</span></label><input id="v-sections" type="number" min="1" max="4" value="2"></div>
          <div><label for="v-rows">Rows per section</label><input id="v-rows" type="number" min="1" max="50" value="5"></div>
          <div><label for="v-seats">Seats per row</label><input id="v-seats" type="number" min="1" max="60" value="10"></div>
        </div>
      </fieldset>
      <fieldset><legend>Prices</legend><div class="row" id="prices"></div></fieldset>
      <fieldset><legend>Sale settings</legend>
        <div class="row">
          <div><label for="on_sale_at">On sale from <span class="hint">(empty: now)</span></label><input id="on_sale_at" type="datetime-local"></div>
          <div><label for="hold_ttl_s">Hold time (seconds)</label><input id="hold_ttl_s" type="number" min="1" max="3600" value="600"></div>
          <div><label for="max_per_user">Tickets per buyer</label><input id="max_per_user" type="number" min="1" max="100" value="8"></div>
        </div>
        <div class="row">
          <div><label><input type="checkbox" id="wr" style="width:auto;min-height:0"> Use the waiting room</label></div>
          <div><label for="admit">Admit per minute</label><input id="admit" type="number" min="1" value="100"></div>
          <div><label for="max_active">Most buyers shopping at once</label><input id="max_active" type="number" min="1" value="500"></div>
        </div>
      </fieldset>
      <div class="actions"><button type="submit" id="create">Create event</button></div>
    </form>
    <section class="card"><h2>Events</h2><div class="table-wrap"><table>
      <thead><tr><th>Event</th><th>Venue</th><th>Starts</th><th class="num">Left</th><th></th></tr></thead>
      <tbody>${evs.map((e) => `<tr><td><a href="#/event/${e.id}">${esc(e.title)}</a></td><td>${esc(e.venue.name)}</td><td>${esc(when(e.starts_at))}</td>
        <td class="num">${e.available}</td><td><a href="#/admin/event/${e.id}">Live view</a></td></tr>`).join('')}</tbody></table></div></section>`, 'Admin');
  focusHeading();
  const d = new Date(Date.now() + 30 * 86400000); d.setMinutes(0, 0, 0);
  $('#starts_at').value = toLocalInput(d.toISOString());
  const cats = async () => {
    const v = $('#venue').value;
    $('#newvenue').hidden = v !== 'new';
    let list = [];
    if (v === 'new') list = 'ABCD'.slice(0, Math.max(1, Math.min(4, Number($('#v-sections').value) || 1))).split('');
    else list = [...new Set((await get(`/api/venues/${v}`)).sections.map((s) => s.category))].sort();
    $('#prices').innerHTML = list.map((c, i) => `<div><label for="price-${c}">Category ${c} (₹)</label>
      <input id="price-${c}" data-cat="${c}" type="number" min="0" step="1" value="${[2500, 1500, 900, 500][i] || 500}" required></div>`).join('');
  };
  $('#venue').addEventListener('change', cats);
  $('#v-sections').addEventListener('change', cats);
  await cats();
  $('#ef').addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = $('#create');
    btn.disabled = true;
    try {
      let venueId = $('#venue').value;
      const prices = [...document.querySelectorAll('#prices input')].map((i) => ({ category: i.dataset.cat, amount: Math.round(Number(i.value) * 100) }));
      if (venueId === 'new') {
        const rows = Number($('#v-rows').value); const per = Number($('#v-seats').value);
        const sections = prices.map((p, i) => ({ name: `Section ${p.category}`, category: p.category, x: 0, y: i * (rows + 2), rows, seats_per_row: per }));
        const v = await post('/api/admin/venues', { name: $('#v-name').value.trim() || 'New venue', city: $('#v-city').value.trim() || 'Mumbai', sections });
        venueId = v.id;
      }
      const body = {
        venue_id: Number(venueId), title: $('#title').value.trim(), performer: $('#performer').value.trim(),
        category: $('#category').value.trim(), starts_at: fromLocalInput($('#starts_at').value), prices,
        hold_ttl_s: Number($('#hold_ttl_s').value), max_per_user: Number($('#max_per_user').value),
      };
      const onSale = fromLocalInput($('#on_sale_at').value);
      if (onSale) body.on_sale_at = onSale;
      if ($('#wr').checked) body.waiting_room = { enabled: true, admit_per_minute: Number($('#admit').value), max_active: Number($('#max_active').value) };
      const ev = await post('/api/admin/events', body);
      go(`#/admin/event/${ev.id}`);
    } catch (err) {
      showError($('#msg'), err);
      $('#msg').scrollIntoView({ block: 'nearest' });
      btn.disabled = false;
    }
  });
}

// A line chart of the samples; colours differ and so do the dash patterns.
const SERIES = [['sold', '#D55E00', []], ['held', '#E69F00', [6, 4]], ['available', '#0072B2', [2, 3]]];
function drawChart(canvas, samples) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth; const h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const L = 48; const R = 10; const T = 10; const B = 26;
  const total = Math.max(1, ...samples.map((s) => s.total || s.sold + s.held + s.available));
  const t0 = samples.length ? samples[0].t : 0; const t1 = samples.length ? samples[samples.length - 1].t : 1;
  const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (w - L - R);
  const y = (v) => T + (1 - v / total) * (h - T - B);
  g.strokeStyle = '#ddd'; g.fillStyle = '#555'; g.font = '11px system-ui, sans-serif'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (total * i) / 4;
    g.beginPath(); g.moveTo(L, y(v)); g.lineTo(w - R, y(v)); g.stroke();
    g.textAlign = 'right'; g.textBaseline = 'middle'; g.fillText(String(Math.round(v)), L - 4, y(v));
  }
  g.textAlign = 'left'; g.textBaseline = 'top';
  if (samples.length) {
    g.fillText(new Date(t0).toLocaleTimeString('en-GB'), L, h - B + 6);
    g.textAlign = 'right'; g.fillText(new Date(t1).toLocaleTimeString('en-GB'), w - R, h - B + 6);
  }
  for (const [key, colour, dash] of SERIES) {
    g.strokeStyle = colour; g.lineWidth = 2.5; g.setLineDash(dash);
    g.beginPath();
    samples.forEach((s, i) => { if (i) g.lineTo(x(s.t), y(s[key])); else g.moveTo(x(s.t), y(s[key])); });
    g.stroke();
  }
  g.setLineDash([]);
}

export async function adminEvent({ parts }) {
  if (!(await requireAdmin())) return;
  const id = Number(parts[2]);
  const ev = await get(`/api/events/${id}`);
  const wr = ev.waiting_room || {};
  render(`
    <h1>Live: ${esc(ev.title)}</h1>
    <p>${esc(ev.venue.name)}, ${esc(ev.venue.city)} · ${esc(when(ev.starts_at))} · <a href="#/event/${id}">Buyer's view</a></p>
    <p id="msg" class="alert" aria-live="assertive"></p>
    <div class="stats" aria-live="off">
      <div class="stat">Sold<b id="s-sold">–</b></div>
      <div class="stat">Held<b id="s-held">–</b></div>
      <div class="stat">Available<b id="s-available">–</b></div>
      <div class="stat">Sold, %<b id="s-pct">–</b></div>
    </div>
    <h2>Over time</h2>
    <p class="muted"><span class="key" style="background:#D55E00"></span>sold (solid) · <span class="key" style="background:#E69F00"></span>held (dashed) · <span class="key" style="background:#0072B2"></span>available (dotted) · updated every 2 seconds</p>
    <canvas class="chart" id="chart" role="img" aria-label="Sold, held and available seats over time"></canvas>
    <p class="visually-hidden" id="chart-text" aria-live="polite"></p>
    <form id="sf" class="card" aria-labelledby="sale-h">
      <h2 id="sale-h">Sale settings</h2>
      <div class="row">
        <div><label for="on_sale_at">On sale from</label><input id="on_sale_at" type="datetime-local" value="${esc(toLocalInput(ev.on_sale_at))}"></div>
        <div><label for="hold_ttl_s">Hold time (seconds)</label><input id="hold_ttl_s" type="number" min="1" max="3600" value="${ev.hold_ttl_s}"></div>
        <div><label for="max_per_user">Tickets per buyer</label><input id="max_per_user" type="number" min="1" max="100" value="${ev.max_per_user}"></div>
      </div>
      <div class="row">
        <div><label><input type="checkbox" id="wr" style="width:auto;min-height:0" ${wr.enabled ? 'checked' : ''}> Use the waiting room</label></div>
        <div><label for="admit">Admit per minute</label><input id="admit" type="number" min="1" value="${wr.admit_per_minute || 100}"></div>
        <div><label for="max_active">Most buyers shopping at once</label><input id="max_active" type="number" min="1" value="${wr.max_active || 500}"></div>
      </div>
      <div class="actions"><button type="submit">Save sale settings</button></div>
    </form>`, `Live: ${ev.title}`);
  focusHeading();
  const samples = [];
  const tick = async () => {
    try {
      const s = await get(`/api/admin/events/${id}/stats`, { tries: 2 });
      samples.push({ ...s, t: Date.parse(s.at) || Date.now() });
      if (samples.length > 300) samples.shift();
      $('#s-sold').textContent = s.sold;
      $('#s-held').textContent = s.held;
      $('#s-available').textContent = s.available;
      $('#s-pct').textContent = `${Math.round((100 * s.sold) / Math.max(1, s.total))}%`;
      $('#chart-text').textContent = `${s.sold} sold, ${s.held} held, ${s.available} available.`;
      drawChart($('#chart'), samples);
    } catch (e) { showError($('#msg'), e); }
  };
  await tick();
  every(2000, tick);
  $('#sf').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { hold_ttl_s: Number($('#hold_ttl_s').value), max_per_user: Number($('#max_per_user').value) };
    const on = fromLocalInput($('#on_sale_at').value);
    if (on) body.on_sale_at = on;
    body.waiting_room = { enabled: $('#wr').checked, admit_per_minute: Number($('#admit').value), max_active: Number($('#max_active').value) };
    try {
      await patch(`/api/admin/events/${id}`, body);
      showOk($('#msg'), 'Saved.');
    } catch (err) { showError($('#msg'), err); }
  });
}
