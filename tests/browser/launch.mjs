// launch.mjs - what the browser tests share: Debian's Chromium started
// through playwright-core with the flags these tests need, in a throwaway
// profile, and the "ok - ..." / "FAIL - ..." lines the suites' wrappers
// count.  Used by run.mjs, a11y.mjs and blur.mjs.  Node 18 and newer.
//
//   import { launch, checks } from './launch.mjs';
//   const t = checks();                         // t.check(name, fn), t.failed()
//   const b = await launch('browser');          // b.context, b.page, b.close()
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTool } from '../load_tool.mjs';

// Chromium's flags: headless without a GPU or a sandbox (the tests run as
// root in CI), nothing fetched from Google, and video that may start on its
// own (the tests play clips without a user's gesture).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync',
              '--autoplay-policy=no-user-gesture-required'];

// launch SUITE [OPTIONS]: a persistent context in a new profile folder.
// SUITE names the suite in node_tools.sh's message when playwright-core
// cannot run here; OPTIONS go to launchPersistentContext (viewport...).
export async function launch(suite, options = {}) {
  const { chromium } = loadTool(suite, 'playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kindling-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.KD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ARGS,
    ...options,
  });
  context.setDefaultTimeout(10000);
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// checks(): "ok - NAME" or "FAIL - NAME (WHY)" per check.  A check's function
// passes unless it throws or returns false or a string (the string says why).
export function checks() {
  let passed = 0, failed = 0;
  const ok = (name) => { passed++; console.log(`ok - ${name}`); };
  const notOk = (name, why) => {
    failed++;
    console.log(`FAIL - ${name} (${String(why).replace(/\n/g, ' ').slice(0, 1500)})`);
  };
  return {
    ok,
    notOk,
    async check(name, fn) {
      try {
        const r = await fn();
        if (r === false) notOk(name, 'condition false');
        else if (typeof r === 'string') notOk(name, r);
        else ok(name);
      } catch (e) { notOk(name, e && e.message || e); }
    },
    passed: () => passed,
    failed: () => failed,
  };
}
