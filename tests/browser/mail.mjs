// mail.mjs - people and their mail in a real browser (issue 16): Debian's
// Chromium driven by playwright-core against a running kindling
// (tests/integration/mail_people.sh sets it up).  The practice page's
// Follow button toggles, without a script of ours, and the API agrees;
// /account's mail switches are labelled and work from the keyboard alone
// (Space to switch, Tab to Save, Enter to send); a mail's unsubscribe page
// (signed out) names what it stops and its one button does it; axe-core
// finds no WCAG 2.1 AA violation on these pages, phone and desktop.
// Prints "ok - ..." or "FAIL - ..." per check; the wrapper adds them up.
// Screenshots: practice-follow-*, account-mail-*, unsubscribe-* in KD_SHOTS.
//
//   node mail.mjs   (env: KD_URL, KD_USER (a teacher with a password, whose
//                    digest switch is on), KD_PASSWORD, KD_PRACTICE (a
//                    practice they do not follow), KD_PRACTICE_NAME,
//                    KD_UNSUB (an unused unsubscribe link's path), KD_SHOTS,
//                    KINDLING_NODE_MODULES)
//
// Runs on Node 18 (Debian 12's own) and newer.
import fs from 'node:fs';
import path from 'node:path';
import { launch, checks } from './launch.mjs';
import { loadTool, NODE_MODULES } from '../load_tool.mjs';

loadTool('mail_people', 'axe-core');   // installed, and runs on this Node
const AXE = fs.readFileSync(path.join(NODE_MODULES, 'axe-core', 'axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const env = process.env;
const URL_ = env.KD_URL;
const PRACTICE = `/practices/${env.KD_PRACTICE}`;
const NAME = env.KD_PRACTICE_NAME;
const DIGEST = 'A weekly digest of new clips of the practices you follow';
const t = checks();
const b = await launch('mail_people');
const page = b.page;
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

async function shot(name) {
  if (!env.KD_SHOTS) return;
  fs.mkdirSync(env.KD_SHOTS, { recursive: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(env.KD_SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(env.KD_SHOTS, `${name}-desktop.png`), fullPage: true });
}
// axe-core on the page as it is, at phone and desktop width.
async function axe() {
  const out = [];
  for (const [w, h] of [[375, 800], [1280, 900]]) {
    await page.setViewportSize({ width: w, height: h });
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
    const found = await page.evaluate((tags) => window.axe.run(document, {
      runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
    }).then((r) => r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ') + ' ' + n.html.slice(0, 120)).join(', ')}`)), TAGS);
    for (const f of found) out.push(`${w} px ${f}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  return out.length === 0 || out.join('; ');
}
// The follow API as the page's session sees it.
const following = () => page.evaluate(async (p) => {
  const r = await fetch(`/api/v1/practices/${p}/follow`, { credentials: 'same-origin' });
  return (await r.json()).following;
}, env.KD_PRACTICE);
const focusedText = () => page.evaluate(() => (document.activeElement && document.activeElement.textContent || '').trim());

try {
  await page.goto(URL_ + '/login');
  await page.fill('#name', env.KD_USER);
  await page.fill('#password', env.KD_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')),
                     page.click('form[action="/login"] button')]);

  // ---------------------------------------------------------- following
  await page.goto(URL_ + PRACTICE);
  const follow = page.getByRole('button', { name: `Follow ${NAME}`, exact: true });
  const stop = page.getByRole('button', { name: `Stop following ${NAME}`, exact: true });
  await t.check('the practice page has a Follow button named for the practice', async () =>
    (await follow.count()) === 1 && (await follow.isVisible()) && (await following()) === false);
  await t.check('pressing it follows: the page says Following, the API agrees', async () => {
    await Promise.all([page.waitForURL('**' + PRACTICE + '#follow'), follow.click()]);
    if (!(await page.locator('#following').isVisible())) return 'no "Following" shown';
    if ((await stop.count()) !== 1) return 'no Stop following button';
    return (await following()) === true || 'the API says not followed';
  });
  await t.check('axe: the practice page, followed', () => axe());
  await shot('practice-follow');
  await t.check('Stop following, by keyboard (focus, Enter), undoes it', async () => {
    await stop.focus();
    await page.keyboard.press('Enter');
    // (the same address again: wait for the new page's button, not the URL)
    await follow.waitFor({ state: 'visible' });
    return (await following()) === false || 'the API still says followed';
  });
  await follow.click();
  await stop.waitFor({ state: 'visible' });

  // ---------------------------------------------------------- the switches
  await page.goto(URL_ + '/account');
  await t.check('every mail switch is a checkbox with its own label', async () => {
    const boxes = page.locator('#mail input[type="checkbox"][name="kind"]');
    const n = await boxes.count();
    if (n !== 5) return `${n} switches`;
    const unnamed = await boxes.evaluateAll((els) => els.filter((e) => !(e.labels && e.labels.length &&
      e.labels[0].textContent.trim().length > 10)).map((e) => e.id));
    return unnamed.length === 0 || `unlabelled: ${unnamed.join(', ')}`;
  });
  await t.check('the followed practice is listed, with its Stop following button', async () =>
    (await page.locator('#mail ul.follows').getByRole('link', { name: NAME, exact: true }).count()) === 1 &&
    (await page.locator('#mail').getByRole('button', { name: `Stop following ${NAME}`, exact: true }).count()) === 1);
  await t.check('axe: /account with its mail section', () => axe());
  await shot('account-mail');
  const digest = page.getByLabel(DIGEST, { exact: true });
  await t.check('the digest switch is on; Space turns it off, Tab reaches Save, Enter saves', async () => {
    if (!(await digest.isChecked())) return 'it was off already';
    await digest.focus();
    await page.keyboard.press('Space');
    if (await digest.isChecked()) return 'Space did not switch it';
    await page.keyboard.press('Tab');
    const on = await focusedText();
    if (on !== 'Save e-mail choices') return `Tab went to "${on}"`;
    await Promise.all([page.waitForURL('**/account?mail=saved#mail'), page.keyboard.press('Enter')]);
    if (!(await page.locator('#mail-saved').isVisible())) return 'no "saved" message';
    return !(await page.getByLabel(DIGEST, { exact: true }).isChecked()) || 'the page shows it on again';
  });
  await t.check('the focus is visible on a switch', async () => {
    await page.getByLabel(DIGEST, { exact: true }).focus();
    return page.evaluate(() => {
      const s = getComputedStyle(document.activeElement);
      return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none' ||
        `outline ${s.outlineStyle} ${s.outlineWidth}`;
    });
  });

  // ---------------------------------------------------------- unsubscribing, signed out
  await b.context.clearCookies();
  await page.goto(URL_ + env.KD_UNSUB);
  await t.check('the unsubscribe page needs no sign-in and names what it stops', async () =>
    (await page.getByRole('heading', { level: 1 }).textContent()) === 'Stop these e-mails?' &&
    /accepted or declined/.test(await page.locator('p.kind').textContent()));
  await t.check('axe: the unsubscribe page', () => axe());
  await shot('unsubscribe');
  await t.check('its one button stops them', async () => {
    await Promise.all([page.waitForURL('**/mail/unsubscribe?**'),
                       page.getByRole('button', { name: 'Stop these e-mails' }).click()]);
    return (await page.getByRole('heading', { level: 1 }).textContent()) === 'E-mails stopped';
  });
  await t.check('axe: the page that says they stopped', () => axe());
  await t.check('the pages raised no script errors', () => pageErrors.length === 0 || pageErrors.join('; '));
} catch (e) {
  t.notOk('the browser session ran to the end', e && e.stack || e);
} finally {
  await b.close();
}
process.exit(t.failed() ? 1 : 0);
