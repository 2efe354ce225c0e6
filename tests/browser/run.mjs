// run.mjs - the catalogue in a real browser: Debian's Chromium driven by
// playwright-core against a running kindling (tests/integration/browser.sh
// sets it up).  Prints "ok - ..." or "FAIL - ..." per check; the wrapper
// adds them up.
//
//   node run.mjs   (env: KD_URL, KD_USER, KD_PASSWORD, KD_CLIP_A, KD_CLIP_HOSTILE,
//                   KD_HOSTILE_TITLE, KD_TEACHER_WORD, KD_SHOTS, KINDLING_NODE_MODULES)
//
// Runs on Node 18 (Debian 12's own) and newer: no API past Node 18 here, and
// playwright-core is pinned in tests/package.json to a version that allows it.
import fs from 'node:fs';
import path from 'node:path';
import { launch, checks } from './launch.mjs';

const env = process.env;
const URL_ = env.KD_URL;
const SHOTS = env.KD_SHOTS;
// issue 15: Chromium's launch and the ok/FAIL lines are shared (launch.mjs); a check that
// returns a string now fails with it as the reason (before, a string passed)
const suite = checks();
const { check, notOk } = suite;
const b = await launch('browser');
const { context, page } = b;
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
  // issue 15: how it spread, drawn on the server with the same facts in a table
  await check('the practice page draws how it spread, with a table', async () =>
    (await page.locator('#spread svg[role="img"] > title').count()) === 1 &&
    (await page.locator('#spread table.spread-table tbody tr').count()) >= 1);
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

  // ---------------------------------------------------------- visits
  async function signIn(name) {
    await page.goto(URL_ + '/login');
    await page.fill('#name', name);
    await page.fill('#password', env.KD_PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')),
                       page.click('form[action="/login"] button')]);
  }
  async function signOut() {
    await Promise.all([page.waitForURL('**/login'), page.click('.signout button')]);
  }
  const D1 = env.KD_VISIT_DAY1, D2 = env.KD_VISIT_DAY2;
  await signIn(env.KD_VISITOR);
  await check('the top navigation has Visits', async () =>
    (await page.locator('nav a[href="/visits"]').count()) === 1);
  await page.goto(URL_ + clipA);
  await check('a clip of another school has a visit form with date fields', async () =>
    (await page.locator('#visit form.visit-form input[type="date"]').count()) === 3);
  await page.fill('#visit-date-1', D1);
  await page.fill('#visit-date-2', D2);
  await page.fill('#visit-note', 'I would love to see the <timer> in action');
  await Promise.all([page.waitForURL(/\/visits#visit-\d+$/), page.click('.visit-form button')]);
  const visitId = new URL(page.url()).hash.replace('#visit-', '');
  const myVisit = page.locator(`#visit-${visitId}`);
  await check('the request shows on My visits as requested, with both days', async () => {
    const t = await myVisit.textContent();
    return /requested/.test(t) && t.includes(D1) && t.includes(D2) && t.includes('<timer>') || t;
  });
  await page.goto(URL_ + clipA);
  await page.fill('#visit-date-1', D1);
  await page.fill('#visit-date-2', D1);
  await Promise.all([page.waitForURL('**' + clipA + '/visit'), page.click('.visit-form button')]);
  await check('a refused request (the same day twice) is shown inline, the days kept', async () =>
    /proposed twice/.test(await page.textContent('#visit-error')) &&
    (await page.inputValue('#visit-date-2')) === D1);
  await shot('visit-form');
  await signOut();

  await signIn(env.KD_HOST_PRINCIPAL);
  await page.goto(URL_ + '/visits');
  const hosted = page.locator(`.visit-list.hosted #visit-${visitId}`);
  await check('the host principal sees the request, from whom', async () =>
    (await hosted.count()) === 1 && (await hosted.textContent()).includes(env.KD_VISITOR));
  await shot('visits-host');
  await hosted.locator(`.answer-form input[type="radio"][value="${D2}"]`).check();
  await hosted.locator('.answer-form input[name="note"]').fill('Come at 9, room 12');
  await Promise.all([page.waitForURL(/\/visits/), hosted.locator('.answer-form button').click()]);
  await check('accepting one of the days', async () =>
    /accepted/.test(await page.locator(`#visit-${visitId}`).first().textContent()));
  await page.goto(URL_ + `/schools/${env.KD_HOST_SCHOOL}`);
  await check('the school page lists the upcoming visit it hosts', async () => {
    const t = await page.locator('.upcoming.hosted').textContent();
    return t.includes(D2) && t.includes(env.KD_VISITOR) || t;
  });
  await signOut();

  await signIn(env.KD_VISITOR);
  await page.goto(URL_ + '/visits');
  await check('the teacher sees the visit accepted, on the chosen day', async () =>
    /accepted/.test(await myVisit.textContent()) &&
    (await myVisit.locator('.visit-day').textContent()).includes(D2));
  await check('the .ics downloads with the session: text/calendar, DTSTART of that day', async () => {
    const href = await myVisit.locator('a.ics').getAttribute('href');
    const r = await page.evaluate(async (u) => {
      const res = await fetch(u, { credentials: 'same-origin' });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    }, href);
    return (r.status === 200 && /^text\/calendar/.test(r.type) &&
            r.body.includes('DTSTART;VALUE=DATE:' + D2.replace(/-/g, ''))) || JSON.stringify(r);
  });
  await shot('visits');
  await myVisit.locator('textarea[name="reflection"]').fill('Timers on the board for each station');
  await Promise.all([page.waitForURL(/\/visits/), myVisit.locator('.done-form button').click()]);
  await check('marking it done keeps the reflection', async () => {
    const t = await myVisit.textContent();
    return /done/.test(t) && t.includes('Timers on the board for each station') || t;
  });
  await check('the visits pages raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));

  // ---------------------------------------------------------- dashboard
  const dash = `/schools/${env.KD_HOST_SCHOOL}/summary`;
  const r403 = await page.goto(URL_ + dash);
  await check('a teacher gets 403 on a school dashboard', () => r403.status() === 403 || `status ${r403.status()}`);
  await signOut();
  await signIn(env.KD_HOST_PRINCIPAL);
  await page.goto(URL_ + `/schools/${env.KD_HOST_SCHOOL}`);
  await check('the school page links its principal to the summary', async () =>
    (await page.locator(`.school-visits a[href="${dash}"]`).count()) === 1);
  await check('a principal has Summary in the navigation', async () =>
    (await page.locator(`nav a[href="${dash}"]`).count()) === 1);
  const rd = await page.goto(URL_ + dash + '?from=2000-01-01');
  await check('the dashboard renders for the school\'s principal', () => rd.status() === 200 || `status ${rd.status()}`);
  await check('with SVG charts that have bars and a title', async () =>
    (await page.locator('main svg rect').count()) >= 1 && (await page.locator('main svg > title').count()) >= 2);
  await check('the figures are in tables too', async () =>
    (await page.locator('main table').count()) >= 2);
  await check('with CSV and JSON download links', async () =>
    (await page.locator('a[href*="/api/v1/schools/"][href*="format=csv"]').count()) === 1 &&
    (await page.locator('a[href^="/api/v1/schools/"][href*="summary"]:not([href*="format=csv"])').count()) === 1);
  await check('the visit shows in the summary (hosted: done 1)', async () => {
    const r = await page.evaluate(async (u) => (await fetch(u)).json(), `/api/v1/schools/${env.KD_HOST_SCHOOL}/summary?from=2000-01-01`);
    return r.visits.hosted.done === 1 || JSON.stringify(r.visits);
  });
  if (SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-print.png'), fullPage: true });
    await check('printed, the dashboard hides navigation and forms', async () =>
      !(await page.locator('header.top').isVisible()) && !(await page.locator('form.range').isVisible()));
    await check('printed on A4 and on Letter, the dashboard is one page', async () => {
      const counts = [];
      for (const format of ['A4', 'Letter']) {
        const pdf = await page.pdf({ format, printBackground: true });
        if (format === 'A4') fs.writeFileSync(path.join(SHOTS, 'dashboard.pdf'), pdf);
        counts.push((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length);
      }
      return (counts[0] === 1 && counts[1] === 1) || `pages: ${counts}`;
    });
    await page.emulateMedia({ media: 'screen' });
  }
  await check('the dashboard raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));
} catch (e) {
  notOk('the browser session ran to the end', e && e.stack || e);
} finally {
  await b.close();
}
process.exit(suite.failed() ? 1 : 0);
