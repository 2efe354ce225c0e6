// moments.mjs - a clip's moments in a real browser: Debian's Chromium driven
// by playwright-core against a running kindling
// (tests/integration/moment_pages.sh sets it up: clip KD_CLIP, 20 s, with the
// moments "Groups rotate" 0:03-0:08 and "Timer & wrap-up" 0:12-0:16.5).
// The chapter bar's links have names and places, a click or Enter on one
// seeks the video there without leaving the page, ?t= starts the video
// there, the chapters track loads, and the practice page's moment cards
// show their storyboard tiles and lead to the clip at the moment.  Prints
// "ok - ..." or "FAIL - ..." per check; the wrapper adds them up.
// Screenshots: clip-moments-* and practice-moments-* in KD_SHOTS.
//
// Then as KD_EDITOR (who may edit the clip's moments): "Now" takes the video's
// time into the add form, a moment added from the browser shows in the bar,
// and axe-core finds no WCAG 2.1 AA violation on the editor's clip page (every
// form open), a refused moment form and the practice page, phone and desktop.
//
//   node moments.mjs   (env: KD_URL, KD_USER, KD_EDITOR, KD_PASSWORD, KD_CLIP,
//                       KD_PRACTICE, KD_SHOTS, KINDLING_NODE_MODULES)
//
// Runs on Node 18 (Debian 12's own) and newer.
import fs from 'node:fs';
import path from 'node:path';
import { launch, checks } from './launch.mjs';
import { loadTool, NODE_MODULES } from '../load_tool.mjs';

loadTool('moment_pages', 'axe-core');   // installed, and runs on this Node
const AXE = fs.readFileSync(path.join(NODE_MODULES, 'axe-core', 'axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const env = process.env;
const URL_ = env.KD_URL;
const CLIP = `/clips/${env.KD_CLIP}`;
const SHOTS = env.KD_SHOTS;
const t = checks();
const b = await launch('moment_pages');
const page = b.page;
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

async function shot(name) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
}
// The video, muted (autoplay), once its length is known.
async function videoReady() {
  await page.evaluate(async () => {
    const v = document.getElementById('player');
    v.muted = true;
    const t0 = Date.now();
    while (!(v.readyState >= 1 && v.duration > 0) && Date.now() - t0 < 8000)
      await new Promise((r) => setTimeout(r, 50));
  });
}
const currentTime = () => page.evaluate(() => document.getElementById('player').currentTime);
// currentTime once a seek has settled near want (or what it is after 5 s).
async function settlesAt(want) {
  const got = await page.evaluate(async (w) => {
    const v = document.getElementById('player');
    const t0 = Date.now();
    while ((v.seeking || Math.abs(v.currentTime - w) > 0.6) && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50));
    v.pause();
    return v.currentTime;
  }, want);
  return Math.abs(got - want) <= 0.6 || `currentTime ${got}, wanted about ${want}`;
}

async function signIn(name) {
  await b.context.clearCookies();
  await page.goto(URL_ + '/login');
  await page.fill('#name', name);
  await page.fill('#password', env.KD_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')),
                     page.click('form[action="/login"] button')]);
}
// axe-core on the page as it is, at phone and desktop width: '' or the
// violations, each with its nodes.
async function axe(prepare) {
  const out = [];
  for (const [w, h] of [[375, 800], [1280, 900]]) {
    await page.setViewportSize({ width: w, height: h });
    if (prepare) await prepare();
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
    const found = await page.evaluate((tags) => window.axe.run(document, {
      runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
    }).then((r) => r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 120)).join(', ')}`)), TAGS);
    for (const f of found) out.push(`${w} px ${f}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  return out.length === 0 || out.join('; ');
}
const openAll = () => page.evaluate(() => document.querySelectorAll('#moments details').forEach((d) => { d.open = true; }));

try {
  await signIn(env.KD_USER);

  // ---------------------------------------------------------- the chapter bar
  await page.goto(URL_ + CLIP);
  await videoReady();
  // (the hidden parts of a name are blocks to Chromium: a space may come before the comma)
  const first = page.getByRole('link', { name: /^Moment 1 of 2: Groups rotate\s*, 0:03 to 0:08$/ });
  const second = page.getByRole('link', { name: /^Moment 2 of 2: Timer & wrap-up\s*, 0:12 to 0:17$/ });
  await t.check('the chapter bar has a link per moment, named by title and times', async () =>
    (await first.count()) === 1 && (await second.count()) === 1 &&
    (await first.isVisible()) && (await second.isVisible()));
  await t.check('each sits under the video where its moment is (within 1% of the bar)', async () => {
    const bar = await page.locator('.chapter-bar').boundingBox();
    const out = [];
    for (const [link, s, e] of [[first, 3, 8], [second, 12, 16.5]]) {
      const r = await link.locator('xpath=..').boundingBox();
      const left = (r.x - bar.x) / bar.width, width = r.width / bar.width;
      if (Math.abs(left - s / 20) > 0.01 || Math.abs(width - (e - s) / 20) > 0.01)
        out.push(`${s}-${e}: left ${left.toFixed(3)}, width ${width.toFixed(3)}`);
    }
    return out.length === 0 || out.join('; ');
  });
  await t.check('the seek bar has a mark at each moment\'s start', async () =>
    (await page.locator('#player-box .seek .seek-mark').count()) === 2);
  await t.check('clicking a chapter seeks the video to its start, on the same page', async () => {
    const before = page.url();
    await second.click();
    const r = await settlesAt(12);
    if (r !== true) return r;
    return page.url() === before || `the page moved to ${page.url()}`;
  });
  await t.check('  and marks it as the current moment', async () =>
    (await second.getAttribute('aria-current')) === 'true' && (await first.getAttribute('aria-current')) === null);
  await t.check('the chapters are reached with Tab, their focus visible, and Enter seeks', async () => {
    await page.evaluate(() => document.getElementById('player').focus());
    let on = '';
    for (let i = 0; i < 40 && !on.startsWith('Moment 1 of 2'); i++) {
      await page.keyboard.press('Tab');
      on = await page.evaluate(() => (document.activeElement && document.activeElement.textContent) || '');
    }
    if (!on.startsWith('Moment 1 of 2')) return 'Tab never reached the first chapter';
    const outline = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    });
    if (!outline) return 'no visible focus outline on the chapter';
    await page.keyboard.press('Enter');
    return settlesAt(3);
  });
  await t.check('the chapters track loads the moments as cues', async () => {
    const cues = await page.evaluate(async () => {
      const v = document.getElementById('player');
      const track = Array.from(v.textTracks).find((x) => x.kind === 'chapters');
      if (!track) return 'no chapters track';
      track.mode = 'hidden';
      const t0 = Date.now();
      while ((!track.cues || track.cues.length < 2) && Date.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 50));
      // the text as shown: getCueAsHTML reads the entities
      return Array.from(track.cues || []).map((c) => `${c.startTime}-${c.endTime} ${c.getCueAsHTML().textContent}`);
    });
    return JSON.stringify(cues) === JSON.stringify(['3-8 Groups rotate (Station rotation)',
                                                    '12-16.5 Timer & wrap-up (Station rotation)']) ||
      JSON.stringify(cues);
  });
  await t.check('a viewer has no moment forms', async () =>
    (await page.locator('.moment-form').count()) === 0);
  await page.evaluate(() => document.getElementById('player').pause());
  await shot('clip-moments');

  // ---------------------------------------------------------- ?t=
  await page.goto(URL_ + CLIP + '?t=12');
  await videoReady();
  await t.check('?t=12 starts the video at 12 s', () => settlesAt(12));
  await t.check('  with that moment marked current before anything plays', async () =>
    (await second.getAttribute('aria-current')) === 'true');

  // ---------------------------------------------------------- the practice page
  await page.goto(URL_ + `/practices/${env.KD_PRACTICE}`);
  const cards = page.locator('#moments .moment-card');
  await t.check('the practice page leads with its moment cards', async () =>
    (await cards.count()) === 3 &&
    (await page.evaluate(() => {
      const m = document.getElementById('moments'), f = document.querySelector('form.filters');
      return !!(m && f && (m.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING));
    })));
  await t.check('each card\'s storyboard sprite loads', async () => {
    const hrefs = await page.locator('#moments svg.tile image').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    if (hrefs.length !== 3) return `${hrefs.length} tiles`;
    const statuses = await page.evaluate(async (hs) =>
      Promise.all(hs.map(async (h) => {
        const r = await fetch(h, { credentials: 'same-origin' });
        return r.status === 200 && /^image\/jpeg/.test(r.headers.get('content-type')) ? 'ok' : `${h}: ${r.status}`;
      })), hrefs);
    return statuses.every((s) => s === 'ok') || statuses.join(', ');
  });
  await t.check('the tiles show a picture (not an empty box)', async () => {
    const box = await cards.first().locator('svg.tile').boundingBox();
    return box && box.width > 100 && box.height > 50 || JSON.stringify(box);
  });
  await shot('practice-moments');
  await page.setViewportSize({ width: 1280, height: 800 });
  await t.check('a card leads to the clip, playing from the moment', async () => {
    const card = cards.filter({ hasText: 'Timer & wrap-up' });
    await Promise.all([page.waitForURL((u) => u.pathname === CLIP && u.searchParams.get('t') === '12'),
                       card.locator('a.card-link').click()]);
    await videoReady();
    return settlesAt(12);
  });
  await t.check('axe: the practice page with moments, no WCAG 2.1 AA violation', async () => {
    await page.goto(URL_ + `/practices/${env.KD_PRACTICE}`);
    return axe();
  });
  await page.goto(URL_ + CLIP);
  await t.check('axe: the clip page with moments, to a viewer', () => axe());

  // ---------------------------------------------------------- an editor
  await signIn(env.KD_EDITOR);
  await page.goto(URL_ + CLIP);
  await videoReady();
  await t.check('"Now" puts the video\'s time into the add form', async () => {
    // the video paused at a known time
    const at = (s) => page.evaluate(async (s) => {
      const v = document.getElementById('player');
      v.pause();
      const seeked = new Promise((res) => v.addEventListener('seeked', res, { once: true }));
      v.currentTime = s;
      await seeked;
    }, s);
    await at(12);
    await page.click('details.moment-add summary');
    await page.click('details.moment-add button.now[aria-label^="Now: set the start"]');
    await at(15.5);
    await page.click('details.moment-add button.now[aria-label^="Now: set the end"]');
    const got = [await page.inputValue('#m-new-start'), await page.inputValue('#m-new-end')];
    return (got[0] === '0:12' && got[1] === '0:15.5') || got.join(' ');
  });
  await t.check('a moment added from the browser shows in the chapter bar', async () => {
    await page.fill('#m-new-title', 'Added in Chromium');
    await Promise.all([page.waitForURL(/#moment-\d+$/), page.click('details.moment-add button[type="submit"]')]);
    return (await page.getByRole('link', { name: /^Moment \d of 3: Added in Chromium\s*, 0:12 to 0:16$/ }).count()) === 1;
  });
  await t.check('axe: the editor\'s clip page, every moment form open', () => axe(openAll));
  await shot('clip-moments-editor');
  await t.check('axe: a refused moment form', async () => {
    await page.goto(URL_ + CLIP);
    await page.click('details.moment-add summary');
    await page.fill('#m-new-start', '0:09');
    await page.fill('#m-new-end', '0:02');
    await page.fill('#m-new-title', 'Backwards');
    await Promise.all([page.waitForURL('**' + CLIP + '/moments'), page.click('details.moment-add button[type="submit"]')]);
    if (!/The end must come after the start/.test(await page.textContent('#moment-error'))) return 'no error shown';
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== 'm-new-end') return `focus on ${focused}, not the end field`;
    return axe();
  });
  await t.check('the pages raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));
} catch (e) {
  t.notOk('the browser session ran to the end', e && e.stack || e);
} finally {
  await b.close();
}
process.exit(t.failed() ? 1 : 0);
