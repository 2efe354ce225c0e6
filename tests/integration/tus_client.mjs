// tus_client.mjs - upload one file to kindling with tus-js-client, an
// independent tus 1.0.0 implementation, in small chunks so that creation,
// many PATCHes and the final response are all exercised.
//
//   node tus_client.mjs ENDPOINT TOKEN FILE SCHOOL PRACTICES [CHUNK_BYTES]
//
// Prints one JSON line: {"url": ..., "clip": ..., "patches": n}; exits 1 on error.
// Runs on Node 18 (Debian 12's own) and newer: no API past Node 18 here, and
// tus-js-client is pinned in tests/package.json to a version that allows it.
import fs from 'node:fs';
import path from 'node:path';
import { loadTool } from '../load_tool.mjs';

const tus = loadTool('upload', 'tus-js-client');

const [endpoint, token, file, school, practices, chunk] = process.argv.slice(2);
const data = fs.readFileSync(file);
let clip = null;
let patches = 0;

const upload = new tus.Upload(data, {
  endpoint,
  chunkSize: Number(chunk || 65536),
  retryDelays: [0, 500, 1000],
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: path.basename(file), school, practices, title: 'Sent by tus-js-client' },
  onAfterResponse(req, res) {
    if (req.getMethod() === 'PATCH') patches++;
    const id = res.getHeader('Kindling-Clip-Id');
    if (id) clip = Number(id);
  },
  onError(err) {
    console.error(`tus-js-client: ${err}`);
    process.exit(1);
  },
  onSuccess() {
    console.log(JSON.stringify({ url: upload.url, clip, patches }));
  },
});
upload.start();
