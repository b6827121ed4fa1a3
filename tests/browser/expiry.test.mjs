// A hold with a short time to live runs out in front of the buyer: the
// countdown reaches zero, paying is disabled, and the page says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, buyer, createEvent, launch, newPage, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a hold expires in front of the buyer', async () => {
  const ev = await createEvent({ holdTtlS: 8 });
  const who = await buyer('Meera');
  const { page } = await newPage(browser);
  await signInUi(page, who, `#/event/${ev.id}`);
  await page.getByLabel('Tickets').selectOption('2');
  await page.getByRole('button', { name: 'Find best seats' }).click();
  await page.waitForURL(/#\/hold\/\d+/);
  const holdId = Number(page.url().split('/').pop());
  const cd = page.locator('#countdown');
  await cd.waitFor();
  assert.match(await cd.textContent(), /^0:0[1-8]$/, 'the countdown starts from the server\'s few seconds');
  await shot(page, 'expiry-counting-down');
  await page.getByText('ran out of time').waitFor({ timeout: 15000 });
  assert.equal(await cd.textContent(), '0:00');
  assert.ok(await page.locator('#pay-btn').isDisabled(), 'paying is disabled');
  await page.getByRole('link', { name: 'Pick seats again' }).waitFor();
  await shot(page, 'expiry-expired');
  const h = await api('GET', `/api/holds/${holdId}`, undefined, who.token);
  assert.notEqual(h.json.status, 'active', 'the server agrees the hold is over');
  // Going back, the seats are free again.
  await page.getByRole('link', { name: 'Pick seats again' }).click();
  await page.getByText('10 seats left').waitFor();
});
