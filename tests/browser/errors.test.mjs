// Errors in words: a lost connection is retried and said, and a sold-out
// answer becomes a sentence a buyer understands.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, buyer, createEvent, launch, newPage, seatIds, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a lost connection is retried and said', async () => {
  const ev = await createEvent();
  const { page } = await newPage(browser);
  let failures = 0;
  await page.route('**/api/events/*/seats', (route) => {
    if (failures < 2) { failures++; return route.abort('connectionreset'); }
    return route.continue();
  });
  await page.goto(`/#/event/${ev.id}`);
  const banner = page.locator('#net-banner');
  await banner.filter({ hasText: 'Connection lost. Retrying' }).waitFor();
  await shot(page, 'errors-1-connection-lost');
  await page.getByRole('heading', { level: 1, name: ev.title }).waitFor();
  await page.locator('.seatmap-canvas-wrap canvas').waitFor();
  await banner.waitFor({ state: 'hidden' });
  assert.equal(failures, 2);
});

test('sold out, said in words', async () => {
  const ev = await createEvent({ rows: 1, seatsPerRow: 2 });
  const other = await buyer('Early');
  const r = await api('POST', `/api/events/${ev.id}/holds`, { seat_ids: await seatIds(ev.id) }, other.token);
  assert.equal(r.status, 201, r.text);
  const who = await buyer('Late');
  const { page } = await newPage(browser);
  await signInUi(page, who, `#/event/${ev.id}`);
  await page.getByLabel('Tickets').selectOption('1');
  await page.getByRole('button', { name: 'Find best seats' }).click();
  const msg = page.locator('#msg.error');
  await msg.waitFor();
  assert.match(await msg.textContent(), /sold out/i);
  await shot(page, 'errors-2-sold-out');
});
