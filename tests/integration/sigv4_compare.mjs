// sigv4_compare.mjs - kindling's SigV4 signatures against an independent
// signer, the npm package aws4 (tests/package.json): same inputs, same
// signature.  s3rver checks no signature, so this is what proves that the
// requests and URLs the storage suite sent would pass at AWS.
//
//   node sigv4_compare.mjs trace FILE REGION     every request of a trace
//        (storage_tool --trace: method, URL, headers as sent) signed again
//        by aws4 from its method, URL and signed headers
//   node sigv4_compare.mjs urls FILE REGION      presigned URLs, one a line,
//        signed again by aws4 (signQuery) from the same path, date, expiry
//        and response-* parameters
//   node sigv4_compare.mjs cases TOOL N          N made-up requests and
//        presigned URLs (odd paths and query values, UTF-8, several spaces
//        in headers, session tokens, regions, dates from 2000 to 2030) given
//        to `TOOL sign` and to aws4
//
// Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (trace, urls).  Prints "N same, N different", and a
// line for each difference with both values; exits 1 when anything differs
// or nothing was compared.  Runs on Node 18 and newer.
import fs from 'node:fs';
import querystring from 'node:querystring';
import { spawnSync } from 'node:child_process';
import { loadTool } from '../load_tool.mjs';

const aws4 = loadTool('storage', 'aws4');
const [mode, source, third] = process.argv.slice(2);
const env = process.env;
const creds = () => ({
  accessKeyId: env.AWS_ACCESS_KEY_ID,
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  sessionToken: env.AWS_SESSION_TOKEN || undefined,
});

let same = 0;
const different = [];
function compare(what, ours, theirs) {
  if (ours === theirs && ours) same++;
  else different.push(`${what}:\n  kindling ${ours}\n  aws4     ${theirs}`);
}

// RFC 3986 encoding, as S3 wants it (encodeURIComponent leaves !'()*).
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const encPath = (p) => p.split('/').map(enc).join('/');

function fromTrace(file, region) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const t = JSON.parse(line);
    const url = new URL(t.url);
    const auth = (t.headers.find(([n]) => n.toLowerCase() === 'authorization') || [])[1];
    const names = /SignedHeaders=([^,]*)/.exec(auth || '');
    const headers = {};
    for (const [n, v] of t.headers) if (names && names[1].split(';').includes(n.toLowerCase())) headers[n] = v;
    // the access key the request was signed with (the suite tries a wrong one too)
    const c = creds();
    const key = /Credential=([^/]*)/.exec(auth || '');
    if (key) c.accessKeyId = key[1];
    const signed = aws4.sign({ host: url.host, path: url.pathname + url.search, method: t.method,
      service: 's3', region, headers }, c);
    compare(`${t.method} ${t.url}`, auth, signed.headers.Authorization);
  }
}

function signatureOf(query) {
  return querystring.parse(query)['X-Amz-Signature'];
}

// aws4's presigned query for a GET of path (encoded) with params (decoded).
function aws4Presign(host, path, params, region, c) {
  const signed = aws4.sign({ host, method: 'GET', service: 's3', region, signQuery: true,
    path: `${path}?${querystring.stringify(params, null, null, { encodeURIComponent: enc })}` }, c);
  return signatureOf(signed.path.slice(signed.path.indexOf('?') + 1));
}

function fromUrls(file, region) {
  for (const u of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const url = new URL(u);
    const params = {};
    for (const [k, v] of url.searchParams) {
      if (k === 'X-Amz-Date' || k === 'X-Amz-Expires' || k.startsWith('response-')) params[k] = v;
    }
    compare(`presigned ${u}`, url.searchParams.get('X-Amz-Signature'),
      aws4Presign(url.host, url.pathname, params, region, creds()));
  }
}

// A small seeded generator: the same cases every run.
let seed = 20130524;
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pick = (a) => a[rand(a.length)];
const PIECES = ['a', 'Z', '0', '9', '-', '.', '_', '~', ' ', '+', '%', '!', '*', "'", '(', ')', '=',
  '&', '?', '#', '@', ':', ',', ';', '$', '\u00e9', '\u1234', '\u{1F3A5}', 'video', 'mp4', '123'];
const word = (n) => Array.from({ length: 1 + rand(n) }, () => pick(PIECES)).join('');

function fromCases(tool, count) {
  const cases = [];
  for (let i = 0; i < count; i++) {
    const t = new Date(Date.UTC(2000, 0, 1) + rand(30 * 365) * 86400000 + rand(86400) * 1000);
    const date = t.toISOString().replace(/[:-]|\.\d{3}/g, '');
    const c = {
      accessKeyId: pick(['AKIDEXAMPLE', 'S3RVER', 'AKIAIOSFODNN7EXAMPLE', 'minio-admin_1']),
      secretAccessKey: word(12) + pick(['/', '+', '=']) + 'secret',
      sessionToken: rand(3) === 0 ? `FwoG${word(20)}==` : undefined,
    };
    const region = pick(['us-east-1', 'eu-west-3', 'ap-southeast-2', 'garage', 'auto']);
    const bucket = pick(['kindling-media', 'media.district.example', 'b']);
    const key = Array.from({ length: 1 + rand(3) }, () => word(6)).join('/');
    const query = [];
    const names = new Set();
    for (let q = rand(4); q > 0; q--) {
      const n = pick(['uploads', 'uploadId', 'partNumber', 'prefix', 'continuation-token',
        'list-type', 'max-keys', 'delete', word(4)]);
      if (names.has(n)) continue; // aws4 keeps only the first of a repeated name for S3
      names.add(n);
      query.push([n, rand(4) === 0 ? '' : word(10)]);
    }
    const host = pick(['127.0.0.1:9000', 's3.eu-west-3.amazonaws.com', `${bucket}.s3.amazonaws.com`]);
    const rawPath = `/${bucket}/${key}`;
    const presign = rand(3) === 0;
    if (presign) {
      const expires = 1 + rand(604800);
      const extra = [];
      if (rand(2)) extra.push(['response-content-type', pick(['video/mp4', 'text/vtt; charset=utf-8'])]);
      if (rand(2)) extra.push(['response-content-disposition', `attachment; filename="${word(5)}.mp4"`]);
      cases.push({ json: { method: 'GET', host, path: rawPath, query: extra, headers: [['host', host]],
        payload: 'UNSIGNED-PAYLOAD', date, region, service: 's3', access: c.accessKeyId,
        secret: c.secretAccessKey, token: c.sessionToken, presign: expires },
      theirs: () => aws4Presign(host, encPath(rawPath),
        { ...Object.fromEntries(extra), 'X-Amz-Date': date, 'X-Amz-Expires': String(expires) }, region, c),
      ours: (out) => signatureOf(out) });
      continue;
    }
    const method = pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
    const payload = pick(['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'UNSIGNED-PAYLOAD', Array.from({ length: 64 }, () => '0123456789abcdef'[rand(16)]).join('')]);
    const headers = [['host', host], ['x-amz-date', date], ['x-amz-content-sha256', payload]];
    if (c.sessionToken) headers.push(['x-amz-security-token', c.sessionToken]);
    if (rand(2)) headers.push(['content-type', pick(['video/mp4', 'application/xml', 'text/plain;  charset=utf-8'])]);
    if (rand(3) === 0) headers.push(['x-amz-meta-note', `  ${word(6)}   ${word(6)}  `]);
    if (rand(4) === 0) headers.push(['Content-MD5', 'XrY7u+Ae7tCTyyK7j1rNww==']);
    const qs = query.map(([n, v]) => `${enc(n)}=${enc(v)}`).join('&');
    cases.push({ json: { method, host, path: rawPath, query, headers, payload, date, region,
      service: 's3', access: c.accessKeyId, secret: c.secretAccessKey, token: c.sessionToken },
    theirs: () => aws4.sign({ host, method, service: 's3', region,
      path: encPath(rawPath) + (qs ? `?${qs}` : ''), headers: Object.fromEntries(headers) }, c).headers.Authorization,
    ours: (out) => out });
  }
  const r = spawnSync(tool, ['sign'], { input: cases.map((x) => JSON.stringify(x.json)).join('\n') + '\n',
    encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`storage_tool sign failed (${r.status}): ${r.stderr}`);
    process.exit(1);
  }
  const lines = r.stdout.split('\n');
  cases.forEach((x, i) => compare(`case ${i + 1} ${JSON.stringify(x.json)}`, x.ours(lines[i]), x.theirs()));
}

if (mode === 'trace') fromTrace(source, third);
else if (mode === 'urls') fromUrls(source, third);
else if (mode === 'cases') fromCases(source, Number(third || 200));
else {
  console.log('usage: node sigv4_compare.mjs trace FILE REGION | urls FILE REGION | cases TOOL N');
  process.exit(2);
}
for (const d of different.slice(0, 5)) console.log(d);
console.log(`${same} same, ${different.length} different`);
process.exit(different.length || !same ? 1 : 0);
