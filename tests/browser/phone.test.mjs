// A phone-sized viewport with touch: the menu folds away, nothing scrolls
// sideways, a tap zooms into a section and taps pick seats, the hold page
// fits the screen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buyer, createEvent, launch, newPage, seatIds, shot, signInUi } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function noSideScroll(page) {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= iw + 1, `no sideways scrolling (${sw} > ${iw})`);
}

test('a phone-sized viewport', async () => {
  const ev = await createEvent({ rows: 4, seatsPerRow: 10, categories: ['A', 'B'] });
  const ids = await seatIds(ev.id);
  const who = await buyer('Nila');
  const { page } = await newPage(browser, PHONE);
  await signInUi(page, who, '#/');
  await page.getByRole('heading', { name: "What's on" }).waitFor();
  assert.ok(!(await page.locator('#nav').isVisible()), 'the menu is folded');
  await page.getByRole('button', { name: 'Menu' }).tap();
  await page.getByRole('link', { name: 'My orders' }).waitFor();
  await noSideScroll(page);
  await shot(page, 'phone-1-home-menu');

  await page.goto(`/#/event/${ev.id}`);
  await page.getByRole('heading', { name: ev.title }).waitFor();
  await noSideScroll(page);
  // Tap the section to zoom in, then tap two seats.
  const sec = await page.evaluate(() => {
    const sm = window.boxofficeSeatMap; const s = sm.sections[0];
    const [x, y] = sm.toScreen(s.x + s.width / 2, s.y + s.height / 2);
    const r = sm.canvas.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  });
  await page.touchscreen.tap(sec.x, sec.y);
  await page.waitForFunction(() => window.boxofficeSeatMap.detailed);
  for (const id of [ids[4], ids[5]]) {
    const p = await page.evaluate((i) => window.boxofficeSeatMap.seatClientPoint(i), id);
    await page.touchscreen.tap(p.x, p.y);
  }
  await page.locator('#picked li').nth(1).waitFor();
  await shot(page, 'phone-2-seat-map');
  // The bar at the bottom of the screen keeps the picks in reach.
  await page.getByRole('button', { name: 'Hold 2 seats' }).tap();
  await page.waitForURL(/#\/hold\/\d+/);
  await page.locator('#countdown').filter({ hasText: /\d:\d\d/ }).waitFor();
  await noSideScroll(page);
  await shot(page, 'phone-3-hold');
});
