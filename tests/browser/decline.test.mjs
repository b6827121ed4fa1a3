// A declined card, said in words, then a good card on the same order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CHECKOUT, buyer, createEvent, launch, missing, newPage, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a declined card, then a good one', async (t) => {
  const skip = await missing(...CHECKOUT);
  if (skip) { t.skip(`checkout: ${skip}`); return; }
  const ev = await createEvent();
  const who = await buyer('Kiran');
  const { page } = await newPage(browser);
  await signInUi(page, who, `#/event/${ev.id}`);
  await page.getByLabel('Tickets').selectOption('1');
  await page.getByRole('button', { name: 'Find best seats' }).click();
  await page.waitForURL(/#\/hold\/\d+/);

  await page.getByLabel('Visa ending 0002 (declined)').check();
  await page.getByRole('button', { name: /^Pay / }).click();
  const msg = page.locator('#msg.error');
  await msg.waitFor({ timeout: 30000 });
  assert.match(await msg.textContent(), /declined.*not been charged/i);
  assert.match(page.url(), /#\/hold\//, 'still on the hold, free to try again');
  await shot(page, 'decline-1-declined');

  await page.getByLabel('Visa ending 4242 (pays)').check();
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.waitForURL(/#\/order\/\d+/, { timeout: 30000 });
  await page.locator('.ticket').first().waitFor();
  assert.equal(await page.locator('#order-status').textContent(), 'paid');
  await shot(page, 'decline-2-paid');
});
