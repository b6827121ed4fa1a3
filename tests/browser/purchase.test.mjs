// A purchase from search to tickets, like a person: sign up, search for the
// event, open it, zoom into the section on the seat map, pick two seats,
// hold them, pay with the sandbox's Visa, and get tickets whose QR codes
// decode to the ticket codes shown; then find it under My orders and
// cancel it for a refund.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import jsQR from 'jsqr';
import { CHECKOUT, PASSWORD, clickSeat, createEvent, launch, missing, newPage, seatIds, shot, unique } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a purchase from search to tickets', async (t) => {
  const skip = await missing(...CHECKOUT);
  if (skip) { t.skip(`checkout: ${skip}`); return; }
  const ev = await createEvent({ rows: 3, seatsPerRow: 8, categories: ['A', 'B'] });
  const ids = await seatIds(ev.id);
  const { page } = await newPage(browser);
  await page.goto('/');

  // Sign up.
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByLabel('Your name').fill('Priya');
  await page.getByLabel('Email').fill(`${unique('priya')}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Signed in as Priya').waitFor();

  // Search; the index may take a moment to see a new event.
  const box = page.getByRole('combobox', { name: 'Search events' });
  let found = false;
  for (let i = 0; i < 20 && !found; i++) {
    await box.fill(ev.title);
    await box.press('Enter');
    await page.locator('#count').filter({ hasText: 'result' }).waitFor();
    found = (await page.getByRole('link', { name: ev.title }).count()) > 0;
    if (!found) await page.waitForTimeout(1000);
  }
  assert.ok(found, 'search finds the new event');
  await shot(page, 'purchase-1-search');
  // Suggestions as you type lead to the event too.
  await box.fill('');
  await box.pressSequentially(ev.title.slice(0, 18), { delay: 20 });
  await page.getByRole('option', { name: ev.title }).waitFor();
  await shot(page, 'purchase-1b-suggestions');
  await box.press('Escape');
  await page.getByRole('link', { name: ev.title }).click();
  await page.waitForURL(new RegExp(`#/event/${ev.id}$`));
  await page.getByRole('heading', { level: 1, name: ev.title }).waitFor();
  await page.waitForFunction(() => window.boxofficeSeatMap);

  // Two seats side by side in row A.
  await clickSeat(page, ids[2]);
  await clickSeat(page, ids[3]);
  await page.locator('#picked li').nth(1).waitFor();
  await page.locator('#total').filter({ hasText: '2 seats · ₹20.00' }).waitFor();
  await shot(page, 'purchase-2-seats');
  await page.getByRole('button', { name: 'Hold these seats' }).click();
  await page.waitForURL(/#\/hold\/\d+/);
  await page.locator('#countdown').filter({ hasText: /^(9|10):\d\d$/ }).waitFor();

  await page.getByLabel('Visa ending 4242 (pays)').check();
  await page.getByRole('button', { name: /^Pay ₹20\.00$/ }).click();
  await page.waitForURL(/#\/order\/\d+/, { timeout: 30000 });
  await page.getByRole('heading', { name: 'You are going!' }).waitFor();
  const tickets = page.locator('.ticket');
  await tickets.nth(1).waitFor();
  assert.equal(await tickets.count(), 2);
  await shot(page, 'purchase-3-tickets');

  // Each QR code reads back as its ticket's code.
  const qrs = await page.evaluate(() => [...document.querySelectorAll('.ticket')].map((li) => {
    const c = li.querySelector('canvas.qr');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return { code: li.querySelector('.ticket-code').textContent, w: c.width, h: c.height, data: Array.from(d.data) };
  }));
  for (const q of qrs) {
    const r = jsQR(Uint8ClampedArray.from(q.data), q.w, q.h);
    assert.ok(r, `the QR code of ${q.code} decodes`);
    assert.equal(r.data, q.code);
  }

  // My orders lists it; cancelling refunds it.
  const orderUrl = page.url();
  await page.getByRole('link', { name: 'My orders' }).first().click();
  await page.getByRole('heading', { name: 'My orders' }).waitFor();
  const row = page.locator('tr', { hasText: ev.title });
  await row.waitFor();
  assert.match(await row.textContent(), /paid/);
  await row.getByRole('link').first().click();
  await page.waitForURL(orderUrl);
  await page.getByRole('button', { name: 'Cancel and refund this order' }).click();
  await page.getByRole('button', { name: /Yes, cancel it/ }).click();
  await page.locator('#msg.ok').filter({ hasText: 'will be refunded' }).waitFor({ timeout: 30000 });
  assert.equal(await page.locator('#order-status').textContent(), 'refunded');
  await shot(page, 'purchase-4-refunded');
});
