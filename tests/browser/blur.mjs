// blur.mjs - the clip page's Blur editor in a real browser: Debian's Chromium
// driven by playwright-core against a running kindling
// (tests/integration/governance_pages.sh sets it up).  The clip shows a red
// box at known fractions of its picture, in a player that letterboxes it;
// the box is found on the screen, a rectangle is dragged over it with the
// mouse on the paused video, the form is sent, and the saved region must be
// where the box is in the picture (within 2%).  Prints "ok - ..." or
// "FAIL - ..." per check; the wrapper adds them up.
//
//   node blur.mjs   (env: KD_URL, KD_USER, KD_PASSWORD, KD_CLIP, KD_BOX="x y w h"
//                    as fractions, KD_SHOTS, KINDLING_NODE_MODULES)
//
// Runs on Node 18 (Debian 12's own) and newer.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { launch } from './launch.mjs';

const env = process.env;
const URL_ = env.KD_URL;
const CLIP = `/clips/${env.KD_CLIP}`;
const BOX = env.KD_BOX.split(/\s+/).map(Number); // x y w h of the red box, fractions
const TOLERANCE = 0.02;
let failed = 0;

function ok(name) { console.log(`ok - ${name}`); }
function notOk(name, why) { failed++; console.log(`FAIL - ${name} (${String(why).replace(/\n/g, ' ').slice(0, 1500)})`); }
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) notOk(name, 'condition false'); else ok(name);
  } catch (e) { notOk(name, e && e.message || e); }
}

// The pixels of a PNG screenshot (8-bit RGB or RGBA, not interlaced: what
// Chromium writes), enough to find a colour on the screen.
function decodePng(buf) {
  let pos = 8, w = 0, h = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), name = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (name === 'IHDR') {
      w = data.readUInt32BE(0); h = data.readUInt32BE(4); type = data[9];
      if (data[8] !== 8 || data[12] !== 0 || (type !== 2 && type !== 6))
        throw new Error('an unexpected PNG (bit depth, colour type or interlacing)');
    } else if (name === 'IDAT') idat.push(data);
    else if (name === 'IEND') break;
    pos += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3, stride = w * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat)), out = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], line = y * (stride + 1) + 1, row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[row + i - bpp] : 0, b = y ? out[row - stride + i] : 0;
      const c = y && i >= bpp ? out[row - stride + i - bpp] : 0;
      let v = raw[line + i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[row + i] = v & 255;
    }
  }
  return { w, h, bpp, px: out };
}

// The bounding box of the red pixels in a screenshot, in its pixels.
function redBox(img) {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < img.h; y++)
    for (let x = 0; x < img.w; x++) {
      const i = (y * img.w + x) * img.bpp, r = img.px[i], g = img.px[i + 1], b = img.px[i + 2];
      if (r > 170 && g < 90 && b < 90) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

const browser = await launch('governance_pages');   // issue 15: the shared launch
const { context, page } = browser;
context.setDefaultTimeout(15000);
const pageErrors = [], cspErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });

try {
  await page.goto(URL_ + CLIP);
  await page.fill('#name', env.KD_USER);
  await page.fill('#password', env.KD_PASSWORD);
  await Promise.all([page.waitForURL('**' + CLIP), page.click('form[action="/login"] button')]);
  await check('the editor signs in and reaches the clip page', () => new URL(page.url()).pathname === CLIP);

  const toggle = page.locator('#blur-draw');
  await check('blur.js offers to draw on the video, as a toggle button',
    async () => (await toggle.getAttribute('aria-pressed')) === 'false' &&
      /Draw regions on the video/.test(await toggle.textContent()));

  // a frame on screen (seeking drops the poster), paused at 2 s
  await page.evaluate(async () => {
    const v = document.getElementById('player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
    v.pause();
    const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
    v.currentTime = 2;
    await seeked;
    if (v.readyState < 2) await new Promise((r) => v.addEventListener('loadeddata', r, { once: true }));
  });
  await page.locator('#player').scrollIntoViewIfNeeded();
  await page.mouse.move(1, 1);
  const geo = await page.evaluate(() => {
    const v = document.getElementById('player'), r = v.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height,
             vw: v.videoWidth, vh: v.videoHeight };
  });
  await check('the player letterboxes the picture (the element is wider than the picture shown)',
    () => {
      const shown = geo.vw / geo.vh * geo.height;
      if (!(geo.width > shown * 1.2)) throw new Error(`element ${geo.width}x${geo.height}, video ${geo.vw}x${geo.vh}`);
    });

  // where the red box is on the screen
  const shotBox = { x: Math.max(0, geo.left), y: Math.max(0, geo.top), width: geo.width, height: geo.height };
  const img = decodePng(await page.screenshot({ clip: shotBox }));
  const red = redBox(img);
  await check('the red box of the picture is found on the screen', () => {
    if (!red) throw new Error('no red pixels in the player');
  });

  await toggle.click();
  await check('drawing pauses the video and presses the toggle', async () =>
    (await toggle.getAttribute('aria-pressed')) === 'true' &&
      await page.evaluate(() => document.getElementById('player').paused));
  // the drawing may have scrolled the player: measure it again
  const geo2 = await page.evaluate(() => {
    const r = document.getElementById('player').getBoundingClientRect();
    return { left: r.left, top: r.top };
  });
  const dx = geo2.left - geo.left, dy = geo2.top - geo.top;
  const from = { x: shotBox.x + dx + red.x0, y: shotBox.y + dy + red.y0 };
  const to = { x: shotBox.x + dx + red.x1, y: shotBox.y + dy + red.y1 };
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();

  const row = page.locator('#blur-rows fieldset.blur-row').first();
  const val = async (name) => row.locator(`input[name="${name}"]`).inputValue();
  await check('the drawn rectangle fills a row: From at the paused moment, To a few seconds on',
    async () => {
      const f = parseFloat(await val('from_s')), t = parseFloat(await val('to_s'));
      if (!(Math.abs(f - 2) < 0.05 && t > f && t <= f + 5)) throw new Error(`from ${f}, to ${t}`);
    });
  const typed = await Promise.all(['x', 'y', 'w', 'h'].map(async (k) => parseFloat(await val(k)) / 100));
  await check(`the row's numbers are the box's place, as percentages (${typed.map((v) => v.toFixed(3)).join(' ')})`,
    () => typed.every((v, i) => Math.abs(v - BOX[i]) <= TOLERANCE));
  await check('a new empty row follows, to add another',
    async () => (await page.locator('#blur-rows fieldset.blur-row.blur-new').count()) === 1 &&
      (await page.locator('#blur-rows fieldset.blur-row').count()) === 2);
  await check('the drawn region is outlined on the picture',
    async () => (await page.locator('.blur-overlay .blur-rect:not(.drawing)').count()) === 1);
  await check('the row is announced to screen readers',
    async () => /Region 1 marked from 0:02/.test(await page.locator('#blur-form [role="status"]').textContent()));

  if (env.KD_SHOTS) {
    fs.mkdirSync(env.KD_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(env.KD_SHOTS, 'blur-drawing-desktop.png'), fullPage: true });
  }
  await page.keyboard.press('Escape');
  await check('Escape stops drawing and gives the toggle the focus', async () =>
    (await toggle.getAttribute('aria-pressed')) === 'false' &&
      await page.evaluate(() => document.activeElement && document.activeElement.id === 'blur-draw'));

  await Promise.all([page.waitForURL('**' + CLIP + '#blur'),
                     page.click('#blur-form button[type="submit"]')]);
  await check('saving goes back to the clip page', () => new URL(page.url()).pathname === CLIP);

  // as the page's own session asks, once the files are made again (until
  // then the clip is processing: its editor may not see it)
  const saved = await page.evaluate(async (id) => {
    const t0 = Date.now();
    for (;;) {
      const r = await fetch(`/api/v1/clips/${id}/blur`, { credentials: 'same-origin' });
      if (r.ok) {
        const b = await r.json();
        if (!b.pending) return b.regions;
      }
      if (Date.now() - t0 > 60000) throw new Error(`GET /api/v1/clips/${id}/blur: ${r.status} after 60 s`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }, env.KD_CLIP);
  const got = saved.length === 1 ? [saved[0].x, saved[0].y, saved[0].w, saved[0].h] : [];
  await check(`the saved region is where the box is, within 2% (saved ${got.map((v) => v.toFixed(3)).join(' ')}, box ${BOX.join(' ')})`,
    () => got.length === 4 && got.every((v, i) => Math.abs(v - BOX[i]) <= TOLERANCE));
  await check('its time is the paused moment',
    () => saved.length === 1 && Math.abs(saved[0].from_s - 2) < 0.05 && saved[0].to_s > saved[0].from_s);
  await check('no script error and nothing refused by the Content-Security-Policy',
    () => { if (pageErrors.length || cspErrors.length) throw new Error([...pageErrors, ...cspErrors].join('; ')); });
} catch (e) {
  notOk('the browser session ran to the end', e && e.stack || e);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
