// The waiting room admits a buyer: the hold is refused before their turn
// (said in words, with a way into the queue), the waiting-room page shows
// their place and moves on by itself when admitted, and then the hold works.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buyer, createEvent, launch, missing, newPage, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the waiting room admits a buyer', async (t) => {
  const skip = await missing(['POST', '/api/queue/999999999/join', {}], ['GET', '/api/queue/999999999/status?token=x'],
    ['GET', '/api/queue/999999999/challenge']);
  if (skip) { t.skip(`waiting room: ${skip}`); return; }
  const ev = await createEvent({ extra: { waiting_room: { enabled: true, admit_per_minute: 600, max_active: 100, pow_bits: 6 } } });
  const who = await buyer('Zoya');
  const { page } = await newPage(browser);
  await signInUi(page, who, `#/event/${ev.id}`);
  await page.getByText('This sale uses a waiting room').waitFor();

  // Before joining: no hold, and the page says why.
  await page.getByRole('button', { name: 'Find best seats' }).click();
  const msg = page.locator('#msg.error');
  await msg.waitFor();
  assert.match(await msg.textContent(), /waiting room.*not your turn/i);
  await shot(page, 'waiting-room-1-not-admitted');

  await msg.getByRole('link', { name: /join the queue/i }).click();
  // The waiting room is its own page.
  await page.waitForURL(new RegExp(`/waiting-room\\.html\\?event=${ev.id}`));
  await page.getByRole('heading', { name: 'Waiting room' }).waitFor();
  await page.locator('#position').filter({ hasText: /^\d+$/ }).waitFor({ timeout: 30000 });
  await shot(page, 'waiting-room-2-in-line');
  // It moves on by itself.
  await page.waitForURL(new RegExp(`#/event/${ev.id}$`), { timeout: 90000 });
  await page.getByRole('heading', { name: ev.title }).waitFor();
  await page.getByRole('button', { name: 'Find best seats' }).click();
  await page.waitForURL(/#\/hold\/\d+/);
  await page.locator('#countdown').filter({ hasText: /\d:\d\d/ }).waitFor();
  await shot(page, 'waiting-room-3-admitted-hold');
});
