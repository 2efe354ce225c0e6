// load_tool.mjs - how a test script loads an npm tool (tests/package.json):
// from KINDLING_NODE_MODULES (default tests/node_modules), once
// tests/node_tools.sh has said this Node can run it; if not, its one plain
// line, and exit 1.  Node 18 and newer.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const TESTS = path.dirname(fileURLToPath(import.meta.url));
export const NODE_MODULES = process.env.KINDLING_NODE_MODULES || path.join(TESTS, 'node_modules');

export function loadTool(suite, name) {
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH || ''}`;
  const r = spawnSync('bash', ['-c', '. "$1" && node_tools_check "$2" "$3"', 'bash',
                               path.join(TESTS, 'node_tools.sh'), suite, name],
                      { stdio: 'inherit', env: { ...process.env, KINDLING_NODE_MODULES: NODE_MODULES, PATH } });
  if (r.status === 1) process.exit(1);
  return require(path.join(NODE_MODULES, name));
}
