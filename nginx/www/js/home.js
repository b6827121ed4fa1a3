// home.js: what is on, with search (suggestions as you type) and facets for
// city, category and date. Uses GET /api/search when the server has it;
// otherwise searches the upcoming events list in the page.
import { get, money, when } from './api.js';
import { $, $$, esc, go, render, showError } from './ui.js';

let allEvents = null; // the fallback's cache

async function loadAllEvents() {
  if (allEvents) return allEvents;
  const out = [];
  for (let page = 1; page <= 20; page++) {
    const r = await get(`/api/events?page=${page}&per_page=100`);
    out.push(...r.events);
    if (out.length >= r.total || r.events.length === 0) break;
  }
  allEvents = out;
  setTimeout(() => { allEvents = null; }, 60000);
  return out;
}

function matches(e, q) {
  if (!q) return true;
  const hay = `${e.title} ${e.performer} ${e.category} ${e.venue?.name} ${e.venue?.city}`.toLowerCase();
  return q.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
}

async function searchFallback(p) {
  const evs = await loadAllEvents();
  const q = p.get('q') || '';
  const cities = p.getAll('city'); const cats = p.getAll('category');
  const from = p.get('from_date'); const to = p.get('to_date');
  const base = evs.filter((e) => matches(e, q)
    && (!from || e.starts_at.slice(0, 10) >= from) && (!to || e.starts_at.slice(0, 10) <= to));
  const facet = (key, pick) => {
    const m = new Map();
    for (const e of base) m.set(pick(e), (m.get(pick(e)) || 0) + 1);
    return [...m].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count);
  };
  const facets = { city: facet('city', (e) => e.venue.city), category: facet('category', (e) => e.category) };
  const hits = base.filter((e) => (!cities.length || cities.includes(e.venue.city)) && (!cats.length || cats.includes(e.category)))
    .map((e) => ({ type: 'event', ...e }));
  return { total: hits.length, hits, facets, fallback: true };
}

async function search(p) {
  const qs = new URLSearchParams();
  if (p.get('q')) qs.set('q', p.get('q'));
  qs.set('type', 'event,train');
  for (const k of ['from_date', 'to_date']) if (p.get(k)) qs.set(k, p.get(k));
  if (p.getAll('city').length) qs.set('city', p.getAll('city').join(','));
  if (p.getAll('category').length) qs.set('category', p.getAll('category').join(','));
  qs.set('page', p.get('page') || '1');
  qs.set('per_page', '20');
  try {
    const r = await get(`/api/search?${qs}`);
    if (!p.get('q') && !p.getAll('city').length && !p.getAll('category').length && !r.total) return searchFallback(p);
    return r;
  } catch (e) {
    if (e.status === 404 || e.status === 501 || e.status >= 500) return searchFallback(p);
    throw e;
  }
}

async function suggest(q) {
  try {
    const r = await get(`/api/search/suggest?q=${encodeURIComponent(q)}`, { tries: 1 });
    return (r.suggestions || []).map((s) => (typeof s === 'string' ? { text: s } : {
      text: s.text || s.title || s.value,
      href: s.type === 'event' && s.id ? `#/event/${s.id}` : undefined,
    })).filter((s) => s.text).slice(0, 8);
  } catch {
    const evs = await loadAllEvents();
    const l = q.toLowerCase();
    const seen = new Set();
    for (const e of evs) {
      for (const t of [e.title, e.performer, e.venue.city]) if (t.toLowerCase().includes(l)) seen.add(t);
    }
    return [...seen].slice(0, 8).map((text) => ({ text }));
  }
}

function eventCard(e) {
  const prices = (e.prices || []).map((p) => p.amount);
  const from = prices.length ? Math.min(...prices) : e.price_min ?? null;
  const currency = e.currency || e.prices?.[0]?.currency || 'INR';
  const left = e.available ?? e.seats_available;
  const soon = left != null && left > 0 && left < 50;
  const title = e.title || e.name;
  const venue = typeof e.venue === 'string' ? e.venue : e.venue?.name || '';
  const city = e.city || e.venue?.city || '';
  if (e.type === 'train') {
    const p = new URLSearchParams();
    if (e.from?.code) { p.set('from', e.from.code); p.set('from_label', `${e.from.name} (${e.from.code})`); }
    if (e.to?.code) { p.set('to', e.to.code); p.set('to_label', `${e.to.name} (${e.to.code})`); }
    return `<li class="event-card"><span class="badge train">Train</span>
      <h3><a href="#/trains?${p}">${esc(e.number || '')} ${esc(title)}</a></h3>
      <p class="meta">${esc(e.from?.name || '')}${e.to ? ` → ${esc(e.to.name)}` : ''}</p></li>`;
  }
  return `<li class="event-card">
    <h3><a href="#/event/${e.id}">${esc(title)}</a></h3>
    <p class="meta">${esc(e.performer || '')}${e.performer ? ' · ' : ''}${esc(venue)}${city ? `, ${esc(city)}` : ''}</p>
    <p class="meta">${esc(when(e.starts_at))}</p>
    <p class="meta"><span class="badge">${esc(e.category || '')}</span>
      ${e.on_sale === false ? '<span class="badge">Not on sale yet</span>' : ''}
      ${left === 0 ? '<span class="badge">Sold out</span>' : soon ? '<span class="badge hot">Few left</span>' : ''}
      ${from != null ? `from ${esc(money(from, currency))}` : ''}</p>
  </li>`;
}

export async function home({ query }) {
  const q = query.get('q') || '';
  render(`
    <h1>What's on</h1>
    <form id="sf" class="search" role="search">
      <label for="q" class="visually-hidden">Search events</label>
      <div class="search-box">
        <input id="q" name="q" type="search" value="${esc(q)}" placeholder="Artist, event, venue or city" autocomplete="off"
          role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="suggestions">
        <button type="submit">Search</button>
      </div>
      <ul id="suggestions" class="suggest" role="listbox" aria-label="Suggestions" hidden></ul>
    </form>
    <div class="layout with-facets">
      <aside class="facets" aria-label="Filters" id="facets"></aside>
      <section aria-labelledby="results-h">
        <h2 id="results-h" class="visually-hidden">Results</h2>
        <p id="msg" class="alert"></p>
        <p id="count" class="muted" aria-live="polite"></p>
        <ul class="events" id="results"></ul>
        <div class="pager" id="pager"></div>
      </section>
    </div>`, q ? `Search: ${q}` : "What's on");
  wireSuggest();
  $('#sf').addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams(query);
    p.set('q', $('#q').value.trim());
    p.delete('page');
    go(`#/search?${p}`);
  });
  let r;
  try {
    r = await search(query);
  } catch (e) {
    showError($('#msg'), e);
    return;
  }
  const hits = r.hits || [];
  $('#count').textContent = `${r.total ?? hits.length} result${(r.total ?? hits.length) === 1 ? '' : 's'}${q ? ` for “${q}”` : ''}`;
  $('#results').innerHTML = hits.map(eventCard).join('') || '<li>No events match. Try fewer words or remove a filter.</li>';
  renderFacets(query, r.facets || {});
  const page = Number(query.get('page') || 1);
  const pages = r.fallback ? 1 : Math.ceil((r.total || 0) / 20);
  if (pages > 1) {
    const link = (n) => { const p = new URLSearchParams(query); p.set('page', n); return `#/search?${p}`; };
    $('#pager').innerHTML = `${page > 1 ? `<a class="button secondary" href="${link(page - 1)}">Previous</a>` : ''}
      <span>Page ${page} of ${pages}</span>
      ${page < pages ? `<a class="button secondary" href="${link(page + 1)}">Next</a>` : ''}`;
  }
}

function renderFacets(query, facets) {
  const box = (name, label, list) => {
    const chosen = query.getAll(name);
    if (!list || !list.length) return '';
    return `<fieldset><legend>${label}</legend><ul>${list.map((f) => `
      <li><label><input type="checkbox" name="${name}" value="${esc(f.value)}" ${chosen.includes(String(f.value)) ? 'checked' : ''}>
      ${esc(f.value)} <span class="muted">(${f.count})</span></label></li>`).join('')}</ul></fieldset>`;
  };
  const wide = window.matchMedia('(min-width: 48rem)').matches;
  const active = query.getAll('city').length + query.getAll('category').length + (query.get('from_date') ? 1 : 0) + (query.get('to_date') ? 1 : 0);
  $('#facets').innerHTML = `
    <details ${wide ? 'open' : ''}><summary class="facet-summary">Filters${active ? ` (${active} on)` : ''}</summary>
    <form id="ff">
      ${box('city', 'City', facets.city)}
      ${box('category', 'Category', facets.category)}
      <fieldset><legend>Date</legend>
        <label for="from_date">From</label><input type="date" id="from_date" name="from_date" value="${esc(query.get('from_date') || '')}">
        <label for="to_date">To</label><input type="date" id="to_date" name="to_date" value="${esc(query.get('to_date') || '')}">
      </fieldset>
      <div class="actions"><button type="submit" class="secondary">Apply filters</button>
      <a href="#/search?q=${encodeURIComponent(query.get('q') || '')}">Clear</a></div>
    </form></details>`;
  const apply = () => {
    const p = new URLSearchParams();
    if (query.get('q')) p.set('q', query.get('q'));
    for (const c of $$('#ff input[type=checkbox]:checked')) p.append(c.name, c.value);
    for (const k of ['from_date', 'to_date']) if ($(`#${k}`).value) p.set(k, $(`#${k}`).value);
    go(`#/search?${p}`);
  };
  $('#ff').addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  for (const c of $$('#ff input[type=checkbox]')) c.addEventListener('change', apply);
}

function wireSuggest() {
  const input = $('#q');
  const list = $('#suggestions');
  let items = []; let active = -1; let timer = 0; let seq = 0;
  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; input.removeAttribute('aria-activedescendant'); };
  const paint = () => {
    list.innerHTML = items.map((s, i) => `<li role="option" id="sug-${i}" aria-selected="${i === active}">${esc(s.text)}</li>`).join('');
    list.hidden = items.length === 0;
    input.setAttribute('aria-expanded', String(items.length > 0));
    if (active >= 0) input.setAttribute('aria-activedescendant', `sug-${active}`);
  };
  const choose = (s) => {
    input.value = s.text;
    close();
    if (s.href) go(s.href); else $('#sf').requestSubmit();
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { items = []; close(); return; }
    timer = setTimeout(async () => {
      const my = ++seq;
      const s = await suggest(q);
      if (my !== seq) return;
      items = s; active = -1; paint();
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
    if (li) { e.preventDefault(); choose(items[Number(li.id.slice(4))]); }
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
}
