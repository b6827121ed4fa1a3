// Trains: a booking from station search to PNR, through the UI; then the
// class fills up, a second buyer is waitlisted, the first cancels from the
// PNR page, and the waitlisted passenger moves up.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CHECKOUT, adminToken, api, buyer, launch, missing, newPage, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// A network of two stations and one daily train, new for this run.
async function importTrain() {
  const tag = (Date.now() % 100000).toString(36).toUpperCase().replace(/[^A-Z]/g, 'Q').padEnd(3, 'X').slice(-3);
  const a = { code: `B${tag}`, name: `Browserpur ${tag} Junction` };
  const b = { code: `T${tag}`, name: `Testnagar ${tag}` };
  const number = String(80000 + (Date.now() % 10000));
  const feature = (s, lon, lat) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { code: s.code, name: s.name, state: 'Testland', zone: 'TR' } });
  const body = {
    stations: { type: 'FeatureCollection', features: [feature(a, 77.0, 28.0), feature(b, 80.0, 24.0)] },
    trains: { [number]: { Train_name: 'BROWSER RAJDHANI EXPRESS', From_station: a.name, To_station: b.name, Pair: '', Duration: '8:00', Distance: 520,
      Runs_on: { mon: 1, tue: 1, wed: 1, thu: 1, fri: 1, sat: 1, sun: 1 }, Stations: [a.code, b.code] } },
  };
  const r = await api('POST', '/api/admin/trains/import', body, await adminToken());
  assert.equal(r.status, 200, r.text);
  return { a, b, number };
}

async function payApi(holdId, token) {
  const co = await fetch(`${process.env.BOXOFFICE_URL || 'http://127.0.0.1:8080'}/api/holds/${holdId}/checkout`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': `k${holdId}x${Date.now()}`, 'Content-Type': 'application/json' }, body: '{}' });
  const order = (await co.json()).order;
  const p = await api('POST', `/api/orders/${order.id}/pay`, { payment_method: 'pm_card_visa' }, token);
  assert.equal(p.json.status, 'paid', p.text);
}

// Books through the UI from the search page; returns the PNR.
async function bookUi(page, net, date, name, shotName) {
  await page.goto('/#/trains');
  await page.getByRole('heading', { name: 'Trains' }).waitFor();
  const from = page.getByRole('combobox', { name: 'From' });
  await from.pressSequentially(net.a.name.slice(0, 10), { delay: 30 });
  await page.getByRole('option', { name: new RegExp(net.a.code) }).click();
  await page.getByRole('combobox', { name: 'To' }).pressSequentially(net.b.name.slice(0, 9), { delay: 30 });
  await page.getByRole('option', { name: new RegExp(net.b.code) }).click();
  await page.getByLabel('Date').fill(date);
  await page.getByRole('button', { name: 'Find trains' }).click();
  const card = page.locator('section.train', { hasText: net.number });
  await card.waitFor();
  if (shotName) await shot(page, `${shotName}-search`);
  await card.getByRole('link', { name: /^Book 1A/ }).first().click();
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Age').fill('34');
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await page.waitForURL(/#\/hold\/\d+/);
  await page.locator('#countdown').filter({ hasText: /\d:\d\d/ }).waitFor();
  if (shotName) await shot(page, `${shotName}-hold`);
  await page.getByLabel('Visa ending 4242 (pays)').check();
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.waitForURL(/#\/pnr\/\w+/, { timeout: 30000 });
  await page.locator('#pax-table tbody tr').first().waitFor();
  return decodeURIComponent(page.url().split('/').pop());
}

test('a train booking from station search to PNR, and a cancellation moving a waitlisted passenger up', async (t) => {
  const skip = await missing(['GET', '/api/stations?q=ab'], ['GET', '/api/trains/search?from=AA&to=BB&date=2030-01-01'],
    ['POST', '/api/trains/1/runs/2030-01-01/bookings', {}], ['GET', '/api/pnr/1'], ['POST', '/api/pnr/1/cancel', {}],
    ['POST', '/api/admin/trains/import', {}], ...CHECKOUT);
  if (skip) { t.skip(`trains: ${skip}`); return; }
  const net = await importTrain();
  const date = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);

  // First buyer: search to PNR, confirmed.
  const first = await buyer('Arjun');
  const p1 = (await newPage(browser)).page;
  await signInUi(p1, first, '#/trains');
  const pnr1 = await bookUi(p1, net, date, 'Arjun Rao', 'trains-1');
  assert.match(await p1.locator('#pax-table td.current').first().textContent(), /CNF/);
  await shot(p1, 'trains-1-pnr-confirmed');

  // Fill the rest of 1A (general quota) through the API.
  const filler = await buyer('Filler');
  for (let i = 0; i < 20; i++) {
    const s = await api('GET', `/api/trains/search?from=${net.a.code}&to=${net.b.code}&date=${date}`);
    const cls = s.json.trains.find((x) => x.number === net.number).classes.find((c) => c.class === '1A' && c.quota === 'GN');
    if (cls.available <= 0) break;
    const n = Math.min(6, cls.available);
    const r = await api('POST', `/api/trains/${net.number}/runs/${date}/bookings`, { from: net.a.code, to: net.b.code, class: '1A', quota: 'GN',
      passengers: Array.from({ length: n }, (_, k) => ({ name: `Filler ${i}-${k}`, age: 40, gender: 'M' })) }, filler.token);
    assert.equal(r.status, 201, r.text);
    await payApi(r.json.hold_id, filler.token);
  }

  // Second buyer: waitlisted (or RAC).
  const second = await buyer('Divya');
  const p2 = (await newPage(browser)).page;
  await signInUi(p2, second, '#/trains');
  const pnr2 = await bookUi(p2, net, date, 'Divya Nair');
  const before = await p2.locator('#pax-table td.current').first().textContent();
  assert.match(before, /WL|RAC/, `the second buyer waits: ${before}`);
  await shot(p2, 'trains-2-pnr-waitlisted');

  // The first buyer cancels from the PNR page.
  await p1.goto(`/#/pnr/${pnr1}`);
  await p1.getByRole('button', { name: 'Cancel this booking' }).click();
  await p1.getByRole('button', { name: 'Yes, cancel and refund' }).click();
  await p1.getByText('Cancelled. The fare will be refunded').waitFor();
  await p1.locator('#pax-table td.current .status.CAN').waitFor();
  await shot(p1, 'trains-3-cancelled');

  // The waitlisted passenger moves up; the open PNR page updates by itself.
  await p2.waitForFunction((b) => {
    const td = document.querySelector('#pax-table td.current');
    return td && td.textContent.trim() !== b.trim();
  }, before, { timeout: 20000 });
  const now = await p2.locator('#pax-table td.current').first().textContent();
  assert.match(now, /CNF|RAC/, `moved up: ${before.trim()} -> ${now.trim()}`);
  await shot(p2, 'trains-4-moved-up');
  assert.ok(pnr2);
});
