// The certified Node.js OpenID provider (oidc-provider), configured as a stand-in for Pocket ID's
// confidential-client setup, for the interop test and the login benchmark.
//
// Usage: node provider.mjs '<json config>'   (config: client_id, client_secret, redirect_uri,
// post_logout_redirect_uri, account: {sub, email, name, given_name, family_name, preferred_username, groups})
// Listens on a free loopback port and prints one JSON line {"issuer": ...} once it accepts requests.
//
// There is no login page: the interaction route signs the fixed account in and grants the requested
// scopes at once, so a script can complete /auth -> redirect_uri with nothing but HTTP redirects.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? '{}');
const account = config.account ?? { sub: 'interop-user' };

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'interop-rs256', use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      post_logout_redirect_uris: config.post_logout_redirect_uri ? [config.post_logout_redirect_uri] : [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    findAccount: async (ctx, id) => (id === account.sub ? {
      accountId: id,
      claims: async () => ({ ...account }),
    } : undefined),
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true, methods: ['S256'] },
    // Pocket ID issues a refresh token on every code exchange and rotates it on every use.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => { ctx.type = 'json'; ctx.body = out; },
  });

  const oidc = provider.callback();
  server.on('request', async (req, res) => {
    const match = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
    if (!match) return oidc(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      let result;
      if (details.prompt.name === 'login') {
        result = { login: { accountId: account.sub } };
      } else {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        const missing = details.prompt.details;
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        result = { consent: { grantId: await grant.save() } };
      }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'interaction_failed', error_description: String(err.message) }));
    }
  });

  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
