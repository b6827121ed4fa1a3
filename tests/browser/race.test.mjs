// Two buyers in two browsers race for the same seat: one gets the hold,
// the other is told in words and sees the seat marked as taken.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buyer, clickSeat, createEvent, launch, newPage, seatIds, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('two browsers race for one seat: one wins, the other is told', async () => {
  const ev = await createEvent({ rows: 2, seatsPerRow: 5 });
  const [seat] = await seatIds(ev.id);
  const sides = [];
  for (const name of ['Asha', 'Ravi']) {
    const who = await buyer(name);
    const { page } = await newPage(browser);
    await signInUi(page, who, `#/event/${ev.id}`);
    await page.getByRole('heading', { name: ev.title }).waitFor();
    await clickSeat(page, seat);
    await page.getByText('row A · seat 1').waitFor();
    sides.push(page);
  }
  // Both press "Hold these seats" at the same moment.
  await Promise.all(sides.map((p) => p.getByRole('button', { name: 'Hold these seats' }).click()));
  const outcome = await Promise.all(sides.map(async (p) => {
    await p.waitForFunction(() => location.hash.startsWith('#/hold/') || document.querySelector('#msg.error'));
    return p.evaluate(() => (location.hash.startsWith('#/hold/') ? 'won' : document.querySelector('#msg').textContent));
  }));
  const winners = outcome.filter((o) => o === 'won');
  assert.equal(winners.length, 1, `exactly one buyer holds the seat: ${JSON.stringify(outcome)}`);
  const loser = sides[outcome.findIndex((o) => o !== 'won')];
  const text = outcome.find((o) => o !== 'won');
  assert.match(text, /someone else just took/i);
  // The seat is no longer offered: it is drawn as taken and not in the picks.
  assert.equal(await loser.evaluate((id) => window.boxofficeSeatMap.byId.get(id).status, seat), 'held');
  assert.equal(await loser.locator('#picked li').count(), 0);
  await shot(loser, 'race-loser-told');
  await shot(sides[outcome.indexOf('won')], 'race-winner-hold');
});
