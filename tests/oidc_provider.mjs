// oidc_provider.mjs - a real OpenID Connect provider for the test suites:
// the npm package oidc-provider (OpenID Certified; tests/package.json) on a
// loopback port, with one client (kindling) and test accounts, a login
// page of its own, and a way to rotate its signing keys.
//
//   node tests/oidc_provider.mjs --port N --client-id ID --client-secret SECRET \
//        --redirect-uri URL [--accounts FILE.json]
//
// Starting it: run it in the background with its output to a file, and it
// is ready once that file holds a line
//   oidc_provider: listening at http://127.0.0.1:N
// (the issuer, exactly: no trailing slash; with --port 0 it picks a free
// port, and that line is where to read it).  It stops on SIGTERM or SIGINT.
// It exits 1 with one plain line when the Node here cannot run
// oidc-provider or it is not installed (run make deps-test), 2 on bad
// arguments.  For example, in a suite:
//   node "$ROOT/tests/oidc_provider.mjs" --port "$P" --client-id kindling \
//     --client-secret s3cret --redirect-uri "$URL/auth/oidc/callback" \
//     --accounts "$WORK/accounts.json" >"$WORK/provider.log" 2>&1 &
//   wait_until 30 grep -q '^oidc_provider: listening' "$WORK/provider.log"
//
// What it is:
//   - issuer http://127.0.0.1:N, discovery at
//     /.well-known/openid-configuration, keys at /jwks;
//   - one client: ID and SECRET, client_secret_basic, response type code,
//     grant type authorization_code, PKCE (S256) required, the one
//     redirect URI;
//   - ID tokens signed RS256 by a key made at start (a kid of its own),
//     holding, for the scopes openid email profile: sub, email,
//     email_verified, name, and hd when the account has one;
//   - accounts from FILE.json: [{"sub", "email", "email_verified", "name",
//     "hd" (optional), "password"}, ...]; without --accounts, one:
//     {"sub": "test-1", "email": "test@district.test", "email_verified":
//     true, "name": "Test Person", "password": "test password"};
//   - its login page, GET /interaction/UID: a plain HTML form (the page's
//     first form) posting to /interaction/UID/login, with fields "login"
//     (the account's e-mail address, any case, or its sub) and "password",
//     and a submit button "Sign in"; a wrong password shows the form again
//     (200, "Wrong e-mail address or password").  A link "Cancel" (GET
//     /interaction/UID/abort) ends the sign-in with error=access_denied at
//     the redirect URI.  There is no consent step: the client is
//     first-party, so the login leads straight back to the redirect URI
//     with a code;
//   - POST /test/rotate-keys: a new RS256 key (a new kid) signs from now
//     on, and the JWKS holds only it (the old key is gone, as after a
//     rotation).  Answers 200 {"kid": "..."}.  Sessions and codes made
//     before survive;
//   - state in memory only; cookies signed with fixed keys; plain http, so
//     no cookie is Secure and every one is SameSite=Lax.
// Runs on Node 18 (Debian 12's) and newer.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TESTS = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = process.env.KINDLING_NODE_MODULES || path.join(TESTS, 'node_modules');

function usage(why) {
  console.error(`oidc_provider: ${why}`);
  console.error('usage: node oidc_provider.mjs --port N --client-id ID --client-secret SECRET ' +
                '--redirect-uri URL [--accounts FILE.json]');
  process.exit(2);
}

const opt = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const m = /^--(port|client-id|client-secret|redirect-uri|accounts)$/.exec(args[i]);
  if (!m || i + 1 >= args.length) usage(`unknown or incomplete argument '${args[i]}'`);
  opt[m[1]] = args[++i];
}
for (const k of ['port', 'client-id', 'client-secret', 'redirect-uri']) if (!(k in opt)) usage(`--${k} is missing`);
const PORT = Number(opt.port);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) usage(`--port ${opt.port} is not a port`);

let accounts = [{ sub: 'test-1', email: 'test@district.test', email_verified: true, name: 'Test Person',
                  password: 'test password' }];
if (opt.accounts) {
  try {
    accounts = JSON.parse(fs.readFileSync(opt.accounts, 'utf8'));
  } catch (e) {
    usage(`cannot read --accounts ${opt.accounts}: ${e.message}`);
  }
  if (!Array.isArray(accounts) || accounts.some((a) => !a || typeof a.sub !== 'string' || !a.sub ||
                                                        typeof a.password !== 'string')) {
    usage('--accounts must hold a JSON list of {"sub", "email", "email_verified", "name", "hd"?, "password"}');
  }
}

// The tool, as load_tool.mjs loads the others, but imported: oidc-provider
// is an ES module, which require() cannot load on Node 18 or 20.
{
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH || ''}`;
  const r = spawnSync('bash', ['-c', '. "$1" && node_tools_check "$2" "$3"', 'bash',
                               path.join(TESTS, 'node_tools.sh'), 'oidc_provider', 'oidc-provider'],
                      { stdio: 'inherit', env: { ...process.env, KINDLING_NODE_MODULES: NODE_MODULES, PATH } });
  if (r.status !== 0) process.exit(1);
}
const require = createRequire(import.meta.url);
const { default: Provider } = await import(pathToFileURL(require.resolve(path.join(NODE_MODULES, 'oidc-provider'))));

// A new signing key: private JWK with its own kid.
function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomBytes(8).toString('hex'),
           alg: 'RS256', use: 'sig' };
}

const byLogin = (login) => {
  const l = String(login || '').trim().toLowerCase();
  return accounts.find((a) => a.sub === login || (typeof a.email === 'string' && a.email.toLowerCase() === l));
};

const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let issuer = null;
let provider = null;
let handler = null;
let key = newKey();

// A Provider signing with `key`.  Rotating makes another: oidc-provider
// reads its keys when made, while what it stores (sessions, interactions,
// grants, codes) is in its memory adapter, which instances share, and
// its cookies are signed with the same fixed keys.
function makeProvider() {
  const p = new Provider(issuer, {
    clients: [{
      client_id: opt['client-id'],
      client_secret: opt['client-secret'],
      redirect_uris: [opt['redirect-uri']],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [key] },
    cookies: {
      keys: ['kindling-test-cookie-key-1', 'kindling-test-cookie-key-2'],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'hd'],
    },
    // the scopes' claims in the ID token itself (kindling reads them there,
    // as it does from Google's), not only from the userinfo endpoint
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { methods: ['S256'], required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const a = accounts.find((x) => x.sub === id);
      if (!a) return undefined;
      return {
        accountId: a.sub,
        async claims() {
          const c = { sub: a.sub };
          if (a.email !== undefined) c.email = a.email;
          if (a.email_verified !== undefined) c.email_verified = a.email_verified;
          if (a.name !== undefined) c.name = a.name;
          if (a.hd !== undefined) c.hd = a.hd;
          return c;
        },
      };
    },
    // No consent step: the client is first-party, so whoever signs in has
    // granted it everything it asks for.
    async loadExistingGrant(ctx) {
      const { Grant } = ctx.oidc.provider;
      const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      let grant = id ? await Grant.find(id) : undefined;
      if (!grant) grant = new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' ') || 'openid');
      if (ctx.oidc.requestParamClaims.size) grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 120, IdToken: 600, AccessToken: 600 },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>Error</title></head><body><h1>${esc(out.error)}</h1>` +
        `<p>${esc(out.error_description || '')}</p></body></html>`;
    },
  });
  p.proxy = false;
  p.on('server_error', (ctx, err) => console.error('oidc_provider: server error:', err));
  return p;
}

function page(res, status, title, body) {
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>` +
    `<body><h1>${esc(title)}</h1>${body}</body></html>`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html),
                          'Cache-Control': 'no-store' });
  res.end(html);
}

function loginForm(res, uid, status, message) {
  page(res, status, 'Sign in to the district', `${message ? `<p class="error">${esc(message)}</p>` : ''}` +
    `<form method="post" action="/interaction/${esc(uid)}/login">` +
    '<p><label for="login">E-mail address</label> <input id="login" name="login" type="text" autofocus></p>' +
    '<p><label for="password">Password</label> <input id="password" name="password" type="password"></p>' +
    '<p><button type="submit">Sign in</button></p></form>' +
    `<p><a href="/interaction/${esc(uid)}/abort">Cancel</a></p>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { s += d; if (s.length > 65536) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(s)));
    req.on('error', reject);
  });
}

// The login page and what it posts; the consent that is never asked.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    page(res, 400, 'Unknown sign-in', '<p>This sign-in is not the one under way: start again.</p>');
    return;
  }
  const prompt = details.prompt.name;
  if (action === 'abort') {
    await provider.interactionFinished(req, res, { error: 'access_denied',
                                                   error_description: 'End-User aborted interaction' },
                                       { mergeWithLastSubmission: false });
    return;
  }
  if (prompt === 'consent') {
    // (loadExistingGrant grants everything; this is in case a request asks
    // for what it did not cover)
    const { Grant } = provider;
    const grant = details.grantId ? await Grant.find(details.grantId)
      : new Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const a = byLogin(form.get('login'));
    const pw = Buffer.from(String(form.get('password') || ''));
    const ok = a && pw.length === Buffer.byteLength(a.password) &&
      crypto.timingSafeEqual(pw, Buffer.from(a.password));
    if (!ok) {
      loginForm(res, uid, 200, 'Wrong e-mail address or password.');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: a.sub } },
                                       { mergeWithLastSubmission: false });
    return;
  }
  loginForm(res, uid, 200, '');
}

async function dispatch(req, res) {
  const url = new URL(req.url, issuer);
  const m = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(url.pathname);
  try {
    if (m) {
      await interaction(req, res, m[1], m[2]);
      return;
    }
    if (url.pathname === '/test/rotate-keys' && req.method === 'POST') {
      key = newKey();
      provider = makeProvider();
      handler = provider.callback();
      const body = JSON.stringify({ kid: key.kid });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      console.log(`oidc_provider: rotated its signing key to ${key.kid}`);
      return;
    }
  } catch (e) {
    // (an interaction that expired or whose cookie is missing)
    page(res, 400, 'Sign-in failed', `<p>${esc(e.error_description || e.message)}</p>`);
    return;
  }
  handler(req, res);
}

const server = http.createServer((req, res) => {
  dispatch(req, res).catch((e) => {
    console.error('oidc_provider:', e);
    if (!res.headersSent) page(res, 500, 'Error', '');
  });
});
server.listen(PORT, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = makeProvider();
  handler = provider.callback();
  console.log(`oidc_provider: listening at ${issuer}`);
});
server.on('error', (e) => {
  console.error(`oidc_provider: cannot listen on 127.0.0.1:${PORT}: ${e.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
