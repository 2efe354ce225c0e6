// oidc_browser.mjs - signing in through the district's identity provider in
// a real browser: Debian's Chromium (playwright-core) from kindling's
// sign-in page, through the provider's own login form, to kindling's home
// page.  tests/integration/oidc.sh sets the servers up.  Prints "ok - ..."
// or "FAIL - ..." per check.
//
//   env: KD_URL, KD_LOGIN, KD_PASSWORD, KD_NAME, KD_BUTTON, KINDLING_NODE_MODULES
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTool } from '../load_tool.mjs';

const { chromium } = loadTool('oidc', 'playwright-core');
const env = process.env;
let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => { failed++; console.log(`FAIL - ${name} (${String(why).replace(/\n/g, ' ').slice(0, 800)})`); };
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) notOk(name, 'condition false'); else ok(name);
  } catch (e) { notOk(name, e && e.message || e); }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kindling-oidc-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || await context.newPage();
try {
  await page.goto(`${env.KD_URL}/practices`);
  await check('a signed-out visitor is sent to the sign-in page', async () =>
    new URL(page.url()).pathname === '/login');
  await check(`the sign-in page has the button "${env.KD_BUTTON}"`, async () =>
    (await page.getByRole('link', { name: env.KD_BUTTON }).count()) === 1);
  await page.getByRole('link', { name: env.KD_BUTTON }).click();
  await check("the button leads to the provider's login form", async () => {
    await page.waitForSelector('input[name="login"]');
    return new URL(page.url()).origin !== env.KD_URL;
  });
  await page.fill('input[name="login"]', env.KD_LOGIN);
  await page.fill('input[name="password"]', env.KD_PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(env.KD_URL) && !u.pathname.startsWith('/auth/')),
    page.locator('button[type="submit"], input[type="submit"]').first().click(),
  ]);
  await check('after the provider, the browser is back on the page it asked for, signed in', async () =>
    new URL(page.url()).pathname === '/practices');
  await check('the page names the person signed in', async () =>
    (await page.locator('header .who').innerText()).trim() === env.KD_NAME);
  await page.goto(`${env.KD_URL}/`);
  await check('the home page opens with the session', async () =>
    new URL(page.url()).pathname === '/' && (await page.locator('main').count()) === 1);
} catch (e) {
  notOk('the browser sign-in ran to the end', e && e.message || e);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
