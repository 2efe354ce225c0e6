// s3rver.mjs - an S3-compatible server for the storage suite: s3rver (npm,
// tests/package.json) on a free loopback port, storing in a folder of the
// suite's, with the bucket made.
//
//   node s3rver.mjs DIR BUCKET [--page N]
//
// Prints "s3rver: http://127.0.0.1:PORT" once it listens; SIGTERM stops it.
// Accepts the access key S3RVER (any secret: s3rver checks no signature,
// which is why the suite compares ours with aws4's).
//
// s3rver 3.7.1 lacks a few things the suite needs, added here in front of
// its router (from its own files: <DIR>/<BUCKET>/._S3rver_uploads/<id>/ holds
// "key" and parts "N" with "N.md5"):
//   - ListParts (GET ?uploadId=) and AbortMultipartUpload (DELETE ?uploadId=);
//   - NoSuchUpload for an upload that is not there (s3rver answers 500),
//     and S3's checks at CompleteMultipartUpload that s3rver skips:
//     InvalidPart (a part missing or of another ETag), InvalidPartOrder,
//     EntityTooSmall (a part but the last under 5 MiB);
//   - ListObjectsV2 (GET ?list-type=2), from s3rver's store: s3rver's own
//     makes continuation tokens with DES, which the OpenSSL 3 under Node 18
//     and newer refuses ("unsupported"), so a listing of more than a page
//     fails;
//   - InvalidAccessKeyId for any key but S3RVER, for the requests above too;
//   - --page N: at most N keys or parts a page, so listings take several;
//   - faults on request: POST /__faults with a JSON list (it replaces the
//     faults still waiting; [] clears them) of
//     {"method": "GET", "status": 503, "code": "SlowDown", "count": 2}
//     (answer the next count requests of that method with that error) or
//     {"method": "GET", "cut": 1000000} (send the next object read's first
//     bytes, then hang up).
// Runs on Node 18 (Debian 12's) and newer.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadTool } from '../load_tool.mjs';

const S3rver = loadTool('storage', 's3rver');

const [dir, bucket, ...rest] = process.argv.slice(2);
if (!dir || !bucket) {
  console.error('usage: node s3rver.mjs DIR BUCKET [--page N]');
  process.exit(2);
}
let page = 1000;
for (let i = 0; i < rest.length; i++) if (rest[i] === '--page') page = Number(rest[++i]);

const faults = [];

function xmlError(ctx, status, code, message) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message><RequestId>storage-suite</RequestId></Error>`;
}

function readBody(ctx) {
  return new Promise((resolve, reject) => {
    let s = '';
    ctx.req.on('data', (d) => { s += d; });
    ctx.req.on('end', () => resolve(s));
    ctx.req.on('error', reject);
  });
}

function listParts(ctx, updir, key) {
  const parts = fs.readdirSync(updir).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => a - b);
  const marker = Number(ctx.query['part-number-marker'] || 0);
  const max = Math.min(page, Number(ctx.query['max-parts'] || 1000));
  const after = parts.filter((n) => n > marker);
  const shown = after.slice(0, max);
  const truncated = after.length > shown.length;
  const xml = shown.map((n) => {
    const file = path.join(updir, String(n));
    const st = fs.statSync(file);
    const md5 = fs.readFileSync(`${file}.md5`, 'utf8').trim();
    return `<Part><PartNumber>${n}</PartNumber><LastModified>${st.mtime.toISOString()}</LastModified>` +
      `<ETag>&quot;${md5}&quot;</ETag><Size>${st.size}</Size></Part>`;
  }).join('');
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${ctx.query.uploadId}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker>` +
    `<NextPartNumberMarker>${shown.length ? shown[shown.length - 1] : marker}</NextPartNumberMarker>` +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${xml}</ListPartsResult>`;
}

// S3's checks of CompleteMultipartUpload's list of parts; false (and the
// error answered) when it fails them.  s3rver reads the body after us: it
// gets the same bytes again.
function checkComplete(ctx, updir, body) {
  const replay = new PassThrough();
  replay.end(body);
  ctx.req = replay;
  const parts = [...body.matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>\s*<\/Part>/g)]
    .map((m) => ({ n: Number(m[1]), etag: m[2].replace(/&quot;|"/g, '') }));
  for (let i = 0; i < parts.length; i++) {
    const file = path.join(updir, String(parts[i].n));
    let md5 = null;
    try { md5 = fs.readFileSync(`${file}.md5`, 'utf8').trim(); } catch (e) { /* not uploaded */ }
    if (i > 0 && parts[i].n <= parts[i - 1].n) {
      xmlError(ctx, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
      return false;
    }
    if (md5 !== parts[i].etag) {
      xmlError(ctx, 400, 'InvalidPart', 'One or more of the specified parts could not be found.');
      return false;
    }
    if (i < parts.length - 1 && fs.statSync(file).size < 5 * 1024 * 1024) {
      xmlError(ctx, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      return false;
    }
  }
  return true;
}

// Send what the handler made, but only the first `cut` bytes, then hang up.
function cutShort(ctx, cut) {
  const body = ctx.body;
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(ctx.status, ctx.response.headers);
  let sent = 0;
  body.on('data', (chunk) => {
    if (sent >= cut) return;
    const piece = chunk.subarray(0, cut - sent);
    sent += piece.length;
    res.write(piece);
    if (sent >= cut) {
      body.destroy();
      res.socket.end(); // a clean end after exactly `cut` bytes, short of Content-Length
    }
  });
}

const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function listObjects(ctx, name) {
  if (!fs.existsSync(path.join(dir, name))) {
    xmlError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist.');
    return;
  }
  const token = ctx.query['continuation-token'];
  const prefix = ctx.query.prefix || '';
  const max = Math.min(page, Number(ctx.query['max-keys'] || 1000));
  const startAfter = token ? Buffer.from(token, 'base64').toString('utf8') : ctx.query['start-after'] || '';
  const result = await server.store.listObjects(name, { prefix, startAfter, maxKeys: max });
  const objects = result.objects;
  const next = result.isTruncated && objects.length
    ? `<NextContinuationToken>${Buffer.from(objects[objects.length - 1].key).toString('base64')}</NextContinuationToken>`
    : '';
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${esc(name)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${objects.length}</KeyCount>` +
    `<MaxKeys>${max}</MaxKeys><IsTruncated>${!!result.isTruncated}</IsTruncated>${next}` +
    objects.map((o) => `<Contents><Key>${esc(o.key)}</Key>` +
      `<LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
      `<ETag>${esc(o.metadata.etag)}</ETag><Size>${o.size}</Size>` +
      '<StorageClass>STANDARD</StorageClass></Contents>').join('') +
    '</ListBucketResult>';
}

// The access key of a signed request or presigned URL, or null.
function accessKey(ctx) {
  const auth = ctx.get('Authorization');
  const m = /Credential=([^/,\s]*)/.exec(auth);
  if (m) return m[1];
  const q = ctx.query['X-Amz-Credential'];
  return q ? String(q).split('/')[0] : null;
}

async function extras(ctx, next) {
  if (ctx.path === '/__faults' && ctx.method === 'POST') {
    faults.splice(0, faults.length, ...JSON.parse(await readBody(ctx)));
    ctx.status = 204;
    return;
  }
  const key = accessKey(ctx);
  if (key !== null && key !== 'S3RVER') {
    xmlError(ctx, 403, 'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.');
    return;
  }
  const i = faults.findIndex((f) => !f.method || f.method === ctx.method);
  const fault = i >= 0 ? faults[i] : null;
  if (fault && (fault.count = (fault.count || 1) - 1) <= 0) faults.splice(i, 1);
  if (fault && fault.status) {
    xmlError(ctx, fault.status, fault.code || 'SlowDown', 'Put there by the storage suite.');
    return;
  }
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (m && 'uploadId' in ctx.query) {
    const key = decodeURIComponent(m[2]);
    const id = String(ctx.query.uploadId);
    const updir = path.join(dir, m[1], '._S3rver_uploads', id);
    let owner = null;
    try {
      if (/^[0-9a-f]+$/.test(id)) owner = fs.readFileSync(path.join(updir, 'key'), 'utf8');
    } catch (e) { /* no such upload */ }
    if (owner !== key) {
      xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      return;
    }
    if (ctx.method === 'GET' && !('partNumber' in ctx.query)) {
      listParts(ctx, updir, key);
      return;
    }
    if (ctx.method === 'DELETE') {
      fs.rmSync(updir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'POST' && !checkComplete(ctx, updir, await readBody(ctx))) return;
  }
  const b = /^\/([^/]+)\/?$/.exec(ctx.path);
  if (b && ctx.method === 'GET' && ctx.query['list-type'] === '2') {
    await listObjects(ctx, b[1]);
    return;
  }
  await next();
  if (fault && fault.cut && ctx.body && typeof ctx.body.pipe === 'function') cutShort(ctx, fault.cut);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: dir,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
// in front of s3rver's router, the last of its middleware
server.middleware.splice(server.middleware.length - 1, 0, extras);
const { port } = await server.run();
console.log(`s3rver: http://127.0.0.1:${port}`);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
