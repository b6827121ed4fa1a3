// Admin: create an event with its sale settings through the form, then
// watch its live view count a buyer's hold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, api, buyer, launch, newPage, shot, unique } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an admin creates an event and watches it sell', async () => {
  const { page } = await newPage(browser);
  await page.goto(`/#/signin?next=${encodeURIComponent('#/admin')}`);
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Box office admin' }).waitFor();

  const title = unique('Admin Made ');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Performer').fill('The Admins');
  await page.getByLabel('Venue').selectOption('new');
  await page.getByLabel('Name', { exact: true }).fill(unique('Hall '));
  await page.getByLabel('City').fill('Pune');
  await page.getByLabel(/^Rows per section/).fill('2');
  await page.getByLabel(/^Seats per row/).fill('5');
  await page.getByLabel('Hold time (seconds)').fill('300');
  await page.getByLabel('Tickets per buyer').fill('4');
  await page.getByRole('button', { name: 'Create event' }).click();
  await page.waitForURL(/#\/admin\/event\/\d+/);
  const id = Number(page.url().split('/').pop());
  await page.getByRole('heading', { name: `Live: ${title}` }).waitFor();
  await page.locator('#s-available').filter({ hasText: '20' }).waitFor();

  const ev = await api('GET', `/api/events/${id}`);
  assert.equal(ev.json.hold_ttl_s, 300);
  assert.equal(ev.json.max_per_user, 4);
  assert.equal(ev.json.prices.length, 2);

  const who = await buyer('Watcher');
  const h = await api('POST', `/api/events/${id}/holds`, { quantity: 3, category: 'A' }, who.token);
  assert.equal(h.status, 201, h.text);
  await page.locator('#s-held').filter({ hasText: /^3$/ }).waitFor({ timeout: 10000 });
  await page.locator('#s-available').filter({ hasText: /^17$/ }).waitFor();
  await page.waitForTimeout(2500); // one more sample for the chart
  await shot(page, 'admin-live-view');
});
