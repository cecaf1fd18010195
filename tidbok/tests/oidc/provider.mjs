// A real OpenID Connect provider for the eID tests: node's `oidc-provider` (certified), as a
// Swedish broker stands in front of BankID. Started by tidbok/tests/conftest.py with one JSON
// argument:
//   {port, client_id, client_secret, redirect_uris: [...], accounts: {id: {claims}},
//    claim, claim_scope, id_token_claims}
// It listens on 127.0.0.1:port with the http issuer http://127.0.0.1:port, signs ID tokens
// with an RSA key made at start, requires PKCE, and has one confidential client. Its log-in
// page is ours (below): type a test person's id (or cancel); the grant covers the scopes asked.
// Prints "ready" once it listens.
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', use: 'sig', alg: 'RS256' };

// Which claims each scope releases: the personnummer under `claim_scope` ("openid" like
// Idura's `ssn`, or its own scope like Signicat's `nin`).
const claims = { openid: ['sub'], profile: ['name', 'given_name', 'family_name'] };
claims[config.claim_scope] = [...(claims[config.claim_scope] || []), config.claim];

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims,
  // false: the claims a scope releases go into the ID token too (Idura's way); true: only
  // the userinfo endpoint has them (the standard's default, Signicat's way).
  conformIdTokenClaims: !config.id_token_claims,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const person = config.accounts[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, uid, error) {
  res.writeHead(error ? 400 : 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Testleverantör</title></head>
<body><h1>Testleverantör för e-legitimation</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
  <label for="login">Testperson</label> <input id="login" name="login" required autofocus>
  <button type="submit">Legitimera</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Avbryt</button></form>
</body></html>`);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

async function interaction(req, res, abort) {
  const details = await provider.interactionDetails(req, res);
  if (abort) {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  if (req.method !== 'POST') return page(res, details.uid);
  const login = (await body(req)).get('login') || '';
  if (!Object.hasOwn(config.accounts, login)) return page(res, details.uid, 'Okänd testperson.');
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, {
    login: { accountId: login }, consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = new URL(req.url, issuer).pathname.match(/^\/interaction\/([^/]+)(\/abort)?$/);
  if (!match) return callback(req, res);
  return interaction(req, res, Boolean(match[2])).catch((err) => {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`interaction failed: ${err.message}`);
  });
});
server.listen(config.port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
