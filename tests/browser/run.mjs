// run.mjs - the catalogue in a real browser: Debian's Chromium driven by
// playwright-core against a running kindling (tests/integration/browser.sh
// sets it up).  Prints "ok - ..." or "FAIL - ..." per check; the wrapper
// adds them up.
//
//   node run.mjs   (env: KD_URL, KD_USER, KD_PASSWORD, KD_CLIP_A, KD_CLIP_HOSTILE,
//                   KD_HOSTILE_TITLE, KD_TEACHER_WORD, KD_SHOTS, KINDLING_NODE_MODULES)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(path.join(process.env.KINDLING_NODE_MODULES, 'playwright-core'));
const env = process.env;
const URL_ = env.KD_URL;
const SHOTS = env.KD_SHOTS;
let failed = 0;

function ok(name) { console.log(`ok - ${name}`); }
function notOk(name, why) { failed++; console.log(`FAIL - ${name} (${String(why).replace(/\n/g, ' ').slice(0, 1500)})`); }
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) notOk(name, 'condition false'); else ok(name);
  } catch (e) { notOk(name, e && e.message || e); }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kindling-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--autoplay-policy=no-user-gesture-required'],
});
context.setDefaultTimeout(10000);
const page = context.pages()[0] || await context.newPage();
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
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

const pathOf = () => new URL(page.url()).pathname;
const clipA = `/clips/${env.KD_CLIP_A}`;

try {
  // ---------------------------------------------------------- sign in
  await page.goto(URL_ + clipA);
  await check('a page without a session leads to the sign-in page, remembering where',
    () => pathOf() === '/login' && new URL(page.url()).searchParams.get('next') === clipA);
  await shot('login');
  await page.fill('#name', env.KD_USER);
  await page.fill('#password', 'not the password');
  await page.click('form[action="/login"] button');
  await check('a wrong password is refused with a message',
    async () => pathOf() === '/login' && /do not match/.test(await page.textContent('.error')));
  await page.fill('#password', env.KD_PASSWORD);
  await Promise.all([page.waitForURL('**' + clipA), page.click('form[action="/login"] button')]);
  await check('signing in goes on to the page asked for', () => pathOf() === clipA);
  const cookies = await context.cookies();
  const sess = cookies.find((c) => c.name === 'kd_session');
  await check('the session cookie is HttpOnly and SameSite=Lax',
    () => sess && sess.httpOnly && sess.sameSite === 'Lax' && !sess.secure);

  // ---------------------------------------------------------- browse
  await page.goto(URL_ + '/');
  await check('home shows recent clips', async () => (await page.locator('.grid .card').count()) >= 3);
  await check('home lists practices with counts',
    async () => /Station rotation\s*2 clips/.test(await page.textContent('main')));
  await shot('home');
  await Promise.all([page.waitForURL('**/practices/station-rotation'),
                     page.click('main a[href="/practices/station-rotation"]')]);
  await check('a practice page shows its clips in a grid',
    async () => (await page.locator('.grid .card').count()) === 2);
  await check('each card has a thumbnail, title, school, teacher and length', async () => {
    const card = page.locator('.card', { hasText: 'Station rotation in maths' });
    const text = await card.textContent();
    const img = await card.locator('img.thumb').evaluate((i) => i.complete && i.naturalWidth > 0);
    return img && /North High/.test(text) && /Ana Ruiz/.test(text) && /0:0[56]/.test(text);
  });
  await shot('practice');
  await page.selectOption('#school', 'north-high');
  await Promise.all([page.waitForURL(/school=north-high/), page.click('.filters button')]);
  await check('filtering by school leaves that school\'s clips', async () => {
    const titles = await page.locator('.card-title').allTextContents();
    return titles.length === 1 && titles[0] === 'Station rotation in maths';
  });
  await page.selectOption('#school', 'south-middle');
  await Promise.all([page.waitForURL(/school=south-middle/), page.click('.filters button')]);
  await check('the hostile title is shown as text on the grid', async () => {
    const titles = await page.locator('.card-title').allTextContents();
    return titles.length === 1 && titles[0] === env.KD_HOSTILE_TITLE;
  });

  // ---------------------------------------------------------- watch
  await page.goto(URL_ + clipA);
  const video = page.locator('video#player');
  await check('the clip page has a video with a poster, preload=metadata', async () =>
    (await video.getAttribute('preload')) === 'metadata' &&
    /poster\.jpg$/.test(await video.getAttribute('poster')) &&
    /video\.mp4$/.test(await video.getAttribute('src')));
  await check('the video plays (currentTime advances)', () => page.evaluate(async () => {
    const v = document.getElementById('player');
    v.muted = true;
    await v.play();
    const t0 = Date.now();
    while (v.currentTime < 0.8 && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 100));
    return v.currentTime >= 0.8 && !v.error;
  }));
  await check('a seek to 80% plays on from there', () => page.evaluate(async () => {
    const v = document.getElementById('player');
    const target = v.duration * 0.8;
    const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
    v.currentTime = target;
    await seeked;
    await v.play().catch(() => {});
    const t0 = Date.now();
    while (v.currentTime < target + 0.3 && !v.ended && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 50));
    return v.currentTime >= target + 0.3 && !v.error;
  }));
  await page.evaluate(() => document.getElementById('player').pause());
  await check('about 3 s of playback records a view (POST .../views with the CSRF header, 204)', async () => {
    await page.goto(URL_ + clipA);
    const resp = page.waitForResponse((r) => r.url().endsWith(`/api/v1/clips/${env.KD_CLIP_A}/views`), { timeout: 12000 });
    await page.evaluate(async () => { const v = document.getElementById('player'); v.muted = true; await v.play(); });
    const r = await resp;
    const sent = r.request().headers()['x-csrf-token'];
    const meta = await page.getAttribute('meta[name="csrf-token"]', 'content');
    const t = await page.evaluate(() => document.getElementById('player').currentTime);
    await page.evaluate(() => document.getElementById('player').pause());
    return (r.status() === 204 && sent === meta && t >= 2.5) || `status ${r.status()}, at ${t}`;
  });

  await check('hovering the seek bar shows a storyboard tile', async () => {
    const bar = page.locator('.seek');
    const box = await bar.boundingBox();
    // the storyboard is fetched when the page loads; hover until a tile shows
    for (let i = 0; i < 30; i++) {
      await page.mouse.move(box.x + box.width * (0.3 + i % 3 * 0.1), box.y + box.height / 2);
      const s = await page.evaluate(() => {
        const el = document.querySelector('.scrub');
        const cs = getComputedStyle(el);
        return { shown: !el.hidden && cs.display !== 'none' && el.offsetWidth > 20, bg: cs.backgroundImage };
      });
      if (s.shown && /storyboard\.jpg/.test(s.bg)) return true;
      await page.waitForTimeout(100);
    }
    return false;
  });
  await page.mouse.move(5, 5);
  await shot('clip');

  // ---------------------------------------------------------- notes
  await page.evaluate(async () => {
    const v = document.getElementById('player');
    v.pause();
    const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
    v.currentTime = 2.5;
    await seeked;
  });
  await page.fill('#note-body', 'Watch how the timer moves groups on <b>here</b>');
  await Promise.all([page.waitForURL(/#note-\d+$/), page.click('.note-form button')]);
  const note = page.locator('.note-list li', { hasText: 'Watch how the timer' });
  await check('a note is added at the current time', async () =>
    (await note.count()) === 1 && (await note.locator('a.note-time').getAttribute('data-t')) === '2.5' &&
    /<b>here<\/b>/.test(await note.locator('.note-body').textContent()));
  await check('clicking the note\'s time jumps the video there', async () => {
    await page.evaluate(() => { const v = document.getElementById('player'); v.muted = true; v.pause(); });
    await note.locator('a.note-time').click();
    await page.waitForTimeout(300);
    const t = await page.evaluate(() => { const v = document.getElementById('player'); v.pause(); return v.currentTime; });
    return Math.abs(t - 2.5) < 0.6 || `currentTime ${t}`;
  });

  // ---------------------------------------------------------- search
  await page.fill('#top-q', env.KD_TEACHER_WORD.toLowerCase());
  await Promise.all([page.waitForURL(/\/search\?q=/), page.press('#top-q', 'Enter')]);
  await check('search finds the clip by its teacher\'s name', async () =>
    (await page.locator('.card-title').allTextContents()).includes('Choice boards in science'));
  await check('the matched word is highlighted in a <mark>', async () =>
    (await page.locator('.card mark').allTextContents()).includes(env.KD_TEACHER_WORD));
  await shot('search');

  // ---------------------------------------------------------- hostile title
  await page.goto(URL_ + `/clips/${env.KD_CLIP_HOSTILE}`);
  await check('the hostile title shows as literal text on its page', async () =>
    (await page.textContent('h1')) === env.KD_HOSTILE_TITLE);
  await check('no script ran from it: no dialog, no injected image', async () =>
    dialogs.length === 0 && (await page.locator('img[src="x"]').count()) === 0 || `dialogs: ${dialogs}`);
  await check('the pages raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));

  // ---------------------------------------------------------- sign out
  await Promise.all([page.waitForURL('**/login'), page.click('.signout button')]);
  await check('signing out ends on the sign-in page', () => pathOf() === '/login');
  await page.goto(URL_ + clipA);
  await check('after signing out the clip page is no longer reachable', () => pathOf() === '/login');
  const status = await page.evaluate(async (u) => (await fetch(u)).status, `/media/clips/${env.KD_CLIP_A}/video.mp4`);
  await check('nor is its video', () => status === 401 || `status ${status}`);
} catch (e) {
  notOk('the browser session ran to the end', e && e.stack || e);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
