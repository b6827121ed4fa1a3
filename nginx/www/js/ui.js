// ui.js: small DOM helpers shared by the pages.

export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export const main = () => document.getElementById('main');

// render(html): replaces the page; the first h1 gets the focus so screen
// readers hear the new page.
export function render(html, title) {
  const m = main();
  m.innerHTML = html;
  document.title = title ? `${title} · Boxoffice` : 'Boxoffice';
  return m;
}

export function focusHeading() {
  const h = main().querySelector('h1');
  if (h) { h.tabIndex = -1; h.focus({ preventScroll: false }); }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// showError(el, err): writes an error in words into an alert region.
export function showError(el, err) {
  if (!el) return;
  el.className = 'alert error';
  el.setAttribute('role', 'alert');
  el.textContent = typeof err === 'string' ? err : err.friendly || err.message;
}
export function showOk(el, text) {
  if (!el) return;
  el.className = 'alert ok';
  el.setAttribute('role', 'status');
  el.textContent = text;
}
export function showInfo(el, text) {
  if (!el) return;
  el.className = 'alert info';
  el.setAttribute('role', 'status');
  el.textContent = text;
}
export function clearMsg(el) { if (el) { el.textContent = ''; el.className = 'alert'; } }

// Parses "#/a/b?x=1" into { parts: ['a','b'], query: URLSearchParams }.
export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path, parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs || '') };
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

// A function to call when the page is left (timers, pollers).
let cleanups = [];
export function onLeave(fn) { cleanups.push(fn); }
export function leave() {
  for (const fn of cleanups) { try { fn(); } catch { /* ignore */ } }
  cleanups = [];
}

// An interval that stops when the page is left.
export function every(ms, fn) {
  const t = setInterval(fn, ms);
  onLeave(() => clearInterval(t));
  return t;
}

export function fmtDuration(s) {
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60);
  const r = s % 60;
  return `${m}:${String(r).padStart(2, '0')}`;
}

export function fmtDate(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
}
export function fmtTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}
