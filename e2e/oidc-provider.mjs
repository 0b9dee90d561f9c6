// A real OpenID provider for the single sign-on browser test: npm's oidc-provider on
// 127.0.0.1 with its development login and consent pages, one confidential client (iso20k)
// and any login name as a user whose ID token carries an e-mail and a `groups` claim.
//
// The provider listens first and prints `Issuer: URL`, so the iso20k server can be started with
// --oidc-issuer URL; the client's redirect URIs need that server's address, which this script
// then reads from the file named by OIDC_CLIENT_BASE_FILE (it waits for the file), and prints
// `Ready.` once it answers.
//
// Users: the login name is the account; `NAME@iso20k.example` is its e-mail, verified; a name
// starting with `nogroup` is in no group, any other is in `iso20k-demo-managers`.
import fs from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Provider from 'oidc-provider';

const baseFile = process.env.OIDC_CLIENT_BASE_FILE;
const secret = process.env.OIDC_CLIENT_SECRET;
if (!baseFile || !secret) {
  throw new Error('set OIDC_CLIENT_BASE_FILE and OIDC_CLIENT_SECRET');
}

let handler = (req, res) => {
  res.statusCode = 503;
  res.end('not ready');
};
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(`Issuer: ${issuer}`);

while (!fs.existsSync(baseFile) || !fs.readFileSync(baseFile, 'utf8').includes('\n')) {
  await sleep(50);
}
const base = fs.readFileSync(baseFile, 'utf8').trim();

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'iso20k',
      client_secret: secret,
      redirect_uris: [`${base}/sso/callback`],
      post_logout_redirect_uris: [`${base}/login`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // PKCE is required of every client (S256 is the only method oidc-provider accepts).
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The claims of the scopes go into the ID token itself, which is all iso20k reads.
  conformIdTokenClaims: false,
  cookies: { keys: ['e2e-only-cookie-signing-key'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@iso20k.example`,
          email_verified: true,
          name: `SSO ${id}`,
          groups: id.startsWith('nogroup') ? [] : ['iso20k-demo-managers'],
        };
      },
    };
  },
});
// Quiet the development-interaction warnings; errors still reach stderr.
provider.on('server_error', (ctx, err) => console.error('server_error', err));
handler = provider.callback();
console.log('Ready.');
