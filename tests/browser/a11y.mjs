// a11y.mjs - WCAG 2.1 AA in a real browser (issue 15): axe-core on every
// HTML page the server has (every GET page route `kindling routes` lists,
// with the suite's real clips, notes and visits, signed in as the roles that
// see each page's forms) at phone (375 px) and desktop (1280 px) width;
// a keyboard-only walk with a visible focus (sign in, browse, play, seek by
// moment, add a note, ask to visit); and the accessible names of the
// player's controls and of the storyboard scrubber.  Prints "ok - ..." or
// "FAIL - ..." per check (each axe violation with its rule and nodes on
// "#" lines after its FAIL), then "# a11y.mjs: N passed, N failed".
// tests/integration/browser.sh sets it up after run.mjs (whose notes and
// visits are part of the data here) and counts its lines.
//
//   node a11y.mjs  (env: KD_URL, KD_PASSWORD, KD_ROUTES (the output of
//                   `kindling routes`), KD_CLIP_A (a clip of KD_HOST_SCHOOL),
//                   KD_CLIP_HOSTILE, KD_USER (a coach there), KD_VISITOR (a
//                   teacher elsewhere), KD_HOST_PRINCIPAL, KD_HOST_SCHOOL,
//                   KD_ADMIN, KD_KEYBOARD_USER (a teacher elsewhere who has
//                   asked for no visit yet), KD_VISIT_DAY1, KINDLING_NODE_MODULES)
//
// Runs on Node 18 (Debian 12's own) and newer; axe-core is pinned in
// tests/package.json.
import fs from 'node:fs';
import path from 'node:path';
import { launch, checks } from './launch.mjs';
import { loadTool, NODE_MODULES } from '../load_tool.mjs';

loadTool('browser', 'axe-core');   // installed, and runs on this Node
const AXE = fs.readFileSync(path.join(NODE_MODULES, 'axe-core', 'axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const WIDTHS = [{ name: 'phone', width: 375, height: 800 }, { name: 'desktop', width: 1280, height: 900 }];

const env = process.env;
const URL_ = env.KD_URL;
const CLIP_A = `/clips/${env.KD_CLIP_A}`;
const USERS = { coach: env.KD_USER, teacher: env.KD_VISITOR, principal: env.KD_HOST_PRINCIPAL,
                admin: env.KD_ADMIN };
const t = checks();
const { check } = t;

// ------------------------------------------------------------ the pages
// Every GET route of kind "page" (and /login), with the concrete addresses
// that show it with data, and who looks.  A route missing here is still
// visited (its {id} the clip, its {slug} the practice) and named in a
// "#" line, so a new page is checked before anyone writes it in.
const ROUTES_TEXT = fs.readFileSync(env.KD_ROUTES, 'utf8');
const ROUTES = ROUTES_TEXT.split('\n')
  .map((l) => l.split(/\s+/)).filter((f) => f[0] === 'GET' && (f[2] === 'page' || f[1] === '/login'))
  .map((f) => f[1]);
const HOST = env.KD_HOST_SCHOOL;
const PAGES = {
  '/login': [['/login', null]],
  '/': [['/', 'teacher'], ['/', 'admin']],
  '/practices': [['/practices', 'teacher']],
  '/practices/{slug}': [['/practices/station-rotation', 'teacher'], ['/practices/station-rotation', 'admin']],
  '/schools/{slug}': [[`/schools/${HOST}`, 'principal'], [`/schools/${HOST}`, 'teacher']],
  '/clips/{id}': [[CLIP_A, 'coach'], [CLIP_A, 'teacher'], [CLIP_A, 'admin'],
                  [`/clips/${env.KD_CLIP_HOSTILE}`, 'teacher'], ['/clips/999999', 'teacher']],
  '/search': [['/search?q=station', 'teacher'], ['/search?q=nothing+like+this', 'teacher']],
  '/visits': [['/visits', 'teacher'], ['/visits', 'principal']],
  '/schools/{slug}/summary': [[`/schools/${HOST}/summary?from=2000-01-01`, 'principal']],
  '/district': [['/district?from=2000-01-01', 'admin']],
  '/account': [['/account', 'teacher'], ['/account', 'admin']],
  '/admin/users': [['/admin/users', 'admin']],
  '/admin/users/{id}': [['@/admin/users', 'admin']],   // the first person listed there
  '/admin/schools': [['/admin/schools', 'admin']],
  '/admin/practices': [['/admin/practices', 'admin']],
  '/admin/roster': [['/admin/roster', 'admin']],
  '/admin/audit': [['/admin/audit', 'admin']],
  '/admin/audit.csv': [],   // CSV, not a page
  '/clips/{id}/chapters.vtt': [],   // WebVTT, not a page
};

// The visits to make, by who makes them (one sign-in each).
const byRole = new Map();
for (const route of ROUTES) {
  let list = PAGES[route];
  if (!list) {
    const url = route.replace(/\{id\}/g, env.KD_CLIP_A).replace(/\{slug\}/g, 'station-rotation');
    console.log(`# ${route}: not listed in a11y.mjs; checked at ${url} as a teacher and an admin`);
    list = [[url, 'teacher'], [url, 'admin']];
  }
  for (const [url, role] of list) {
    if (!byRole.has(role)) byRole.set(role, []);
    byRole.get(role).push({ route, url });
  }
}

// en-US: the keyboard walk types a date in its month, day, year order
const b = await launch('browser', { locale: 'en-US' });
const page = b.page;
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

async function signIn(name) {
  await page.goto(URL_ + '/login');
  await page.fill('#name', name);
  await page.fill('#password', env.KD_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')),
                     page.click('form[action="/login"] button')]);
}
async function signOut() {
  await b.context.clearCookies();
}

// axe on the page as it is now: its violations, each with its nodes.
async function axe() {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  return page.evaluate((tags) => window.axe.run(document, {
    runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
  }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160),
                                 why: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300) })),
  }))), TAGS);
}

function report(violations) {
  for (const v of violations) {
    console.log(`#   ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes) console.log(`#     ${n.target}  ${n.html}\n#       ${n.why}`);
  }
  return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`).join('; ');
}

// Pages at 320 px must not scroll sideways (WCAG 1.4.10, reflow): what
// sticks out past the right edge, outside a scrolling box of its own.
async function overflow() {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= w + 1) return null;
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= w + 1 || r.width === 0) continue;
      let p = el.parentElement, scrolls = false;
      for (; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolls = true; break; }
      }
      if (!scrolls) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (right ${Math.round(r.right)})`);
    }
    return `page is ${document.documentElement.scrollWidth} px wide at ${w}: ${out.slice(0, 6).join(', ')}`;
  });
}

// ------------------------------------------------------------ the keyboard
// Where the focus is, and whether it shows: an outline or a ring drawn by
// the page, or by the browser's own media controls.
async function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', cls: '', href: '', id: '', shows: false, what: 'nothing' };
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 &&
      !/rgba\(.*, 0\)$|transparent/.test(cs.outlineColor);
    const ring = cs.boxShadow && cs.boxShadow !== 'none';
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim()
      .replace(/\s+/g, ' ').slice(0, 60);
    return {
      tag: el.tagName.toLowerCase(), id: el.id, cls: String(el.className || ''),
      href: el.getAttribute('href') || '', type: el.getAttribute('type') || '',
      what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text}"`,
      // a <video> draws its controls' own focus ring inside them
      shows: outline || !!ring || el.tagName === 'VIDEO',
      inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight &&
              r.right > 0 && r.left < innerWidth,
    };
  });
}

const unseen = [];   // Tab stops whose focus did not show
let stops = 0;
async function tab(shift) {
  await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
  const f = await focused();
  if (f.tag === 'body') return f;   // past the last stop: the browser's own bar has it
  stops++;
  if (!f.shows || !f.inView) unseen.push(`${f.what} on ${new URL(page.url()).pathname}${f.inView ? '' : ' (out of view)'}`);
  return f;
}
// Tab until pred(focus) holds; throws after max presses.
async function tabTo(what, pred, max = 120) {
  for (let i = 0; i < max; i++) {
    const f = await tab();
    if (pred(f)) return f;
  }
  throw new Error(`${max} presses of Tab did not reach ${what} on ${page.url()}`);
}
const video = () => page.evaluate(() => {
  const v = document.getElementById('player');
  return v && { t: v.currentTime, paused: v.paused, ready: v.readyState, d: v.duration };
});
async function waitFor(fn, ms = 8000) {
  const t0 = Date.now();
  for (;;) {
    const r = await fn();
    if (r || Date.now() - t0 > ms) return r;
    await page.waitForTimeout(100);
  }
}

// Sign in, browse, play, seek by moment, add a note, ask to visit: the
// keyboard only, as a teacher at another school than the clip's.
async function keyboardWalk() {
  await signOut();
  await page.goto(URL_ + '/login');
  await check('keyboard: the first Tab stop is "Skip to content", shown on the screen', async () => {
    const f = await tab();
    return (f.href === '#main' && f.inView && f.shows) || `first stop: ${f.what}, in view ${f.inView}`;
  });
  await check('keyboard: sign in with the name and password fields and Enter', async () => {
    await tabTo('the name field', (f) => f.id === 'name');
    await page.keyboard.type(env.KD_KEYBOARD_USER);
    await tabTo('the password field', (f) => f.id === 'password');
    await page.keyboard.type(env.KD_PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.keyboard.press('Enter')]);
    return new URL(page.url()).pathname === '/' || page.url();
  });
  await check('keyboard: browse from home to a practice and on to a clip', async () => {
    await tabTo('the station rotation practice', (f) => f.href === '/practices/station-rotation');
    await Promise.all([page.waitForURL('**/practices/station-rotation'), page.keyboard.press('Enter')]);
    await tabTo(`the card of ${CLIP_A}`, (f) => f.href === CLIP_A);
    await Promise.all([page.waitForURL('**' + CLIP_A), page.keyboard.press('Enter')]);
    return true;
  });
  await waitFor(async () => ((await video()) || {}).ready >= 1);
  await check('keyboard: the player takes the focus and Space plays the video', async () => {
    await tabTo('the video player', (f) => f.tag === 'video');
    const t0 = (await video()).t;
    await page.keyboard.press('Space');
    const v = await waitFor(async () => { const x = await video(); return !x.paused && x.t > t0 + 0.5 && x; });
    await page.evaluate(() => document.getElementById('player').pause());
    return !!v || `paused ${(await video()).paused} at ${(await video()).t}`;
  });
  const hasMoments = ROUTES_TEXT.includes('/api/v1/clips/{id}/moments');
  if (hasMoments) {
    await check('keyboard: a moment\'s chapter link under the video seeks there', async () => {
      // a moment that starts well away from where the video is, so only a seek gets there
      const now = (await video()).t;
      const at = (x) => Number(new URL(x.href, URL_).searchParams.get('t'));
      const f = await tabTo('a moment in the chapter bar that starts away from here',
        (x) => /moment-seek/.test(x.cls) && /[?&]t=/.test(x.href) && Math.abs(at(x) - now) > 1.5);
      const want = at(f);
      await page.keyboard.press('Enter');
      const v = await waitFor(async () => {
        const x = await video();
        return x && x.ready >= 1 && x.t >= want - 0.25 && x.t < want + 1.5 && x;
      });
      await page.evaluate(() => document.getElementById('player').pause());
      return !!v || `wanted ${want}, at ${(await video() || {}).t}`;
    });
  } else {
    console.log('# no moments API on this server: no chapter links to seek by');
  }
  await check('keyboard: the seek slider moves with Home and the arrow keys', async () => {
    await tabTo('the seek slider', (f) => f.cls.split(/\s+/).includes('seek'));
    await page.keyboard.press('Home');
    await waitFor(async () => (await video()).t < 0.1);
    await page.keyboard.press('ArrowRight');
    const v = await waitFor(async () => { const x = await video(); return Math.abs(x.t - 5) < 0.3 && x; });
    const said = await page.getAttribute('.seek', 'aria-valuetext');
    return (!!v && /^0:05 of 0:0[56]$/.test(said)) || `at ${(await video()).t}, says "${said}"`;
  });
  await check('keyboard: the focused slider shows the storyboard tile of where it is; Escape hides it', async () => {
    const s = await waitFor(() => page.evaluate(() => {
      const el = document.querySelector('.scrub');
      const cs = getComputedStyle(el);
      return !el.hidden && cs.display !== 'none' && /storyboard/.test(cs.backgroundImage) && el.offsetWidth > 20;
    }), 3000);
    if (!s) return 'no tile';
    await page.keyboard.press('Escape');
    return (await page.evaluate(() => document.querySelector('.scrub').hidden)) || 'Escape left it shown';
  });
  await check('keyboard: a note typed and sent with Enter on its button, at the video\'s time', async () => {
    await tabTo('the note field', (f) => f.id === 'note-body');
    const said = `Typed without a mouse, ${Date.now()}`;
    await page.keyboard.type(said);
    await tabTo('the Add note button', (f) => f.tag === 'button' && /Add note/.test(f.what));
    await Promise.all([page.waitForURL(/#note-\d+$/), page.keyboard.press('Enter')]);
    const li = page.locator('.note-list li', { hasText: said });
    return ((await li.count()) === 1 && (await li.locator('a.note-time').count()) === 1) || 'note not shown with its time';
  });
  await check('keyboard: ask to visit: a date typed, the request sent with Enter', async () => {
    await tabTo('the first visit date', (f) => f.id === 'visit-date-1');
    const [y, m, d] = env.KD_VISIT_DAY1.split('-');
    await page.keyboard.type(m + d + y);   // Chromium's en-US date field: mm dd yyyy
    await tabTo('the visit form\'s button', (f) => f.tag === 'button' && /visit/i.test(f.what));
    await Promise.all([page.waitForURL(/\/visits#visit-\d+$/), page.keyboard.press('Enter')]);
    const id = new URL(page.url()).hash.slice(1);
    const text = await page.textContent(`#${id}`);
    return (/requested/.test(text) && text.includes(env.KD_VISIT_DAY1)) || text;
  });
  await check(`keyboard: every Tab stop showed where the focus is (${stops} stops)`,
    () => unseen.length === 0 || unseen.slice(0, 12).join('; '));
}

// The player's controls and the scrubber: every button and slider in and
// under the video has a name (Chromium's accessibility tree, which holds
// the browser's own media controls too).
async function playerNames() {
  await page.goto(URL_ + CLIP_A);
  await waitFor(async () => ((await video()) || {}).ready >= 1);
  const cdp = await b.context.newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const role = (n) => n.role && n.role.value;
  const name = (n) => (n.name && n.name.value || '').trim();
  const within = (n, pred) => { for (let p = n; p; p = byId.get(p.parentId)) if (pred(p)) return true; return false; };
  const CONTROLS = /^(button|slider|checkbox|menuitem|menuitemcheckbox|menuitemradio|switch|spinbutton|link|PopUpButton|ToggleButton)$/;
  const videoNode = nodes.find((n) => /^video$/i.test(role(n)));
  await check('the video is named by the clip\'s title', () =>
    (videoNode && name(videoNode) === 'Station rotation in maths') || `video node: ${videoNode && name(videoNode)}`);
  const inPlayer = nodes.filter((n) => !n.ignored && CONTROLS.test(role(n)) &&
    within(n, (p) => p === videoNode));
  await check(`the player's own controls have names (${inPlayer.map((n) => `${role(n)} "${name(n)}"`).join(', ')})`, () => {
    const unnamed = inPlayer.filter((n) => !name(n));
    if (!inPlayer.some((n) => role(n) === 'button' && /play/i.test(name(n)))) return 'no play button found';
    return unnamed.length === 0 || `unnamed: ${unnamed.map(role).join(', ')}`;
  });
  const seek = nodes.find((n) => !n.ignored && role(n) === 'slider' && /seek/i.test(name(n)) && !within(n, (p) => p === videoNode));
  // (the tree CDP gives holds no aria-valuetext: read from the element)
  const said = await page.getAttribute('.seek', 'aria-valuetext');
  await check(`the storyboard scrubber is a slider with a name and its time as text ("${seek && name(seek)}", "${said}")`,
    () => (!!seek && /^\d:\d\d of \d:\d\d$/.test(said || '')) || 'no named seek slider with its time');
}

// Both widths on the page as it is (an answer to a form: not loaded again).
async function axeBoth(what) {
  for (const w of WIDTHS) {
    await page.setViewportSize({ width: w.width, height: w.height });
    await check(`axe: ${what} at ${w.width} px`, async () => {
      const found = await axe();
      return found.length ? report(found) : true;
    });
  }
}
// Pages that answer a refused form, by who sends it: errors shown inline.
const STATES = {
  null: [async () => {
    await page.goto(URL_ + '/login');
    await page.fill('#name', 'Nobody Here');
    await page.fill('#password', 'not a password');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button')]);
    await axeBoth('/login with a refused sign-in');
  }],
  teacher: [async () => {
    await page.goto(URL_ + CLIP_A);
    await page.fill('#visit-date-1', env.KD_VISIT_DAY1);
    await page.fill('#visit-date-2', env.KD_VISIT_DAY1);
    await Promise.all([page.waitForURL('**' + CLIP_A + '/visit'), page.click('.visit-form button')]);
    await axeBoth(`${CLIP_A}/visit with a refused visit request`);
  }],
  coach: [async () => {
    await page.goto(URL_ + CLIP_A);
    await page.click('details.edit summary');
    const checked = page.locator('details.edit input[name="practices"]:checked');
    while (await checked.count()) await checked.first().uncheck();
    await Promise.all([page.waitForURL('**' + CLIP_A + '/edit'), page.click('details.edit button[type="submit"]')]);
    await axeBoth(`${CLIP_A}/edit with a refused edit`);
  }, async () => {
    if (!ROUTES_TEXT.includes('/clips/{id}/moments')) return;
    await page.goto(URL_ + CLIP_A);
    await page.click('details.moment-add summary');
    await page.fill('#m-new-start', '0:05');
    await page.fill('#m-new-end', '0:01');
    await page.fill('#m-new-title', 'Backwards');
    await Promise.all([page.waitForURL('**' + CLIP_A + '/moments'), page.click('details.moment-add button[type="submit"]')]);
    await axeBoth(`${CLIP_A}/moments with a refused moment`);
  }],
};

try {
  // ---------------------------------------------------------- axe itself
  // axe must find what it is there to find: an image without a text
  // alternative planted in a page
  await page.goto(URL_ + '/login');
  await check('axe, injected into a page, finds a planted image without alt text', async () => {
    await page.evaluate(() => {
      const img = document.createElement('img');
      img.src = '/nothing.png';
      document.querySelector('main').appendChild(img);
    });
    const found = await axe();
    return found.some((v) => v.id === 'image-alt') || `found: ${found.map((v) => v.id).join(', ') || 'nothing'}`;
  });

  // ---------------------------------------------------------- axe sweep
  for (const [role, visits] of byRole) {
    await signOut();
    if (role) await signIn(USERS[role]);
    for (const v of visits) {
      let url = v.url;
      if (url.startsWith('@')) {   // the first link of that page to a page of this route
        await page.goto(URL_ + url.slice(1));
        const prefix = v.route.replace(/\{id\}.*/, '');
        url = await page.locator(`main a[href^="${prefix}"]`).first().getAttribute('href');
      }
      const who = role ? `as ${role}` : 'signed out';
      for (const w of WIDTHS) {
        await page.setViewportSize({ width: w.width, height: w.height });
        const resp = await page.goto(URL_ + url);
        const type = resp && resp.headers()['content-type'] || '';
        if (!/^text\/html/.test(type)) {
          console.log(`# ${url} ${who}: ${type || 'no answer'}, not a page`);
          break;
        }
        await page.waitForLoadState('load');
        const name = `axe: ${url} ${who} at ${w.width} px (${resp.status()})`;
        await check(name, async () => {
          const found = await axe();
          return found.length ? report(found) : true;
        });
        if (w.name === 'phone') {   // and at 320 px, the width WCAG 1.4.10 names
          await page.setViewportSize({ width: 320, height: w.height });
          await check(`reflow: ${url} ${who} at 320 px has no sideways scrolling`,
            async () => (await overflow()) || true);
        }
      }
    }
    for (const state of STATES[role] || []) {
      try { await state(); } catch (e) { t.notOk(`a refused form's page ${role ? 'as ' + role : 'signed out'}`, e && e.message || e); }
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await keyboardWalk();
  await playerNames();
  await check('the pages raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));
} catch (e) {
  t.notOk('the a11y run ran to the end', e && e.stack || e);
} finally {
  await b.close();
}
// (a comment line: run_all.sh adds up "NAME: N passed" lines, and browser.sh's has these)
console.log(`# a11y.mjs: ${t.passed()} passed, ${t.failed()} failed`);
process.exit(t.failed() ? 1 : 0);
