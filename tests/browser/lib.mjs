// lib.mjs: shared helpers for the browser tests: launching Debian's
// Chromium through playwright-core, the admin API (to set up events the
// way tests/e2e/boxoffice.py does), buyers, screenshots, and checks for
// API endpoints that have not landed yet (tests then skip, naming them).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const URL = (process.env.BOXOFFICE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ADMIN_EMAIL = process.env.BOXOFFICE_ADMIN_EMAIL || 'admin@boxoffice.local';
export const ADMIN_PASSWORD = process.env.BOXOFFICE_ADMIN_PASSWORD || '';
export const CHROMIUM = process.env.BOXOFFICE_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
export const PASSWORD = 'correct horse battery';

mkdirSync(ARTIFACTS, { recursive: true });

let counter = 0;
export const unique = (prefix) => `${prefix}${process.pid}x${Date.now().toString(36)}${counter++}`;

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh, empty profile directory.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

// A new browser context and page; page errors fail loudly in the log.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: URL, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  return { context, page };
}

export async function shot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  // Whole page, unless it is very long (slow to capture): then the screen.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.screenshot({ path, fullPage: height <= 3000, timeout: 30000 });
  return path;
}

export async function api(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(URL + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, json, text };
}

let adminTok;
export async function adminToken() {
  if (adminTok) return adminTok;
  const r = await api('POST', '/api/sessions', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  if (r.status !== 200) throw new Error(`admin sign-in failed: ${r.status} ${r.text}`);
  adminTok = r.json.token;
  return adminTok;
}

// A small venue (one section per category) and an event on sale in it.
export async function createEvent({ rows = 2, seatsPerRow = 5, categories = ['A'], holdTtlS = 600, maxPerUser = 8, extra = {} } = {}) {
  const tok = await adminToken();
  const sections = categories.map((c, i) => ({ name: `Section ${c}`, category: c, x: 0, y: i * (rows + 1), rows, seats_per_row: seatsPerRow }));
  const v = await api('POST', '/api/admin/venues', { name: unique('Venue '), city: 'Testville', sections }, tok);
  if (v.status !== 201) throw new Error(`venue: ${v.status} ${v.text}`);
  const body = {
    venue_id: v.json.id, title: unique('Browser Event '), performer: 'The Testers', category: 'concert',
    starts_at: '2030-01-01T20:00:00Z', hold_ttl_s: holdTtlS, max_per_user: maxPerUser,
    prices: categories.map((c, i) => ({ category: c, amount: 1000 * (i + 1) })), ...extra,
  };
  const e = await api('POST', '/api/admin/events', body, tok);
  if (e.status !== 201) throw new Error(`event: ${e.status} ${e.text}`);
  return e.json;
}

// A buyer made through the API: { email, name, token }.
export async function buyer(name = 'Buyer') {
  const email = `${unique(name.toLowerCase())}@example.com`;
  const r = await api('POST', '/api/users', { email, password: PASSWORD, name });
  if (r.status !== 201) throw new Error(`sign-up: ${r.status} ${r.text}`);
  const s = await api('POST', '/api/sessions', { email, password: PASSWORD });
  return { email, name, token: s.json.token };
}

// Signs a page's context in as `who` through the sign-in form, like a person.
export async function signInUi(page, who, next = '#/') {
  await page.goto(`/#/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${who.name}`).waitFor({ state: 'attached' });
}

// The endpoint answers something other than "no such route": a 404 with
// code not_found (the router's) or a 405 means it has not landed.
export async function hasEndpoint(method, path, body) {
  const r = await api(method, path, body);
  if (r.status === 404 && r.json?.error?.code === 'not_found') return false;
  if (r.status === 405) return false;
  return true;
}

// Returns null when every endpoint exists, else the skip message.
export async function missing(...endpoints) {
  const gone = [];
  for (const [method, path, body] of endpoints) {
    if (!(await hasEndpoint(method, path, body))) gone.push(`${method} ${path.replace(/\d{6,}/g, '{id}')}`);
  }
  return gone.length ? `the API has no ${gone.join(', ')} yet` : null;
}

export const CHECKOUT = [['POST', '/api/holds/999999999/checkout', {}], ['POST', '/api/orders/999999999/pay', {}], ['GET', '/api/orders/999999999']];

// Clicks seat `id` on the seat map canvas, zooming into its section first.
export async function clickSeat(page, seatId) {
  const sec = await page.evaluate((id) => {
    const sm = window.boxofficeSeatMap;
    const s = sm.byId.get(id);
    if (sm.detailed && sm.isVisible(s)) return null;
    const sec = sm.sections.find((x) => x.name === s.section);
    const [x, y] = sm.toScreen(sec.x + sec.width / 2, sec.y + sec.height / 2);
    const r = sm.canvas.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }, seatId);
  if (sec) {
    await page.mouse.click(sec.x, sec.y);
    await page.waitForFunction(() => window.boxofficeSeatMap.detailed);
  }
  const p = await page.evaluate((id) => window.boxofficeSeatMap.seatClientPoint(id), seatId);
  await page.mouse.click(p.x, p.y);
}

export async function seatIds(eventId) {
  const r = await api('GET', `/api/events/${eventId}/seats`);
  return r.json.seats.map((s) => s.id);
}
