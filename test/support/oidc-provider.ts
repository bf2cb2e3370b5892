import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real, OpenID Certified provider (the npm oidc-provider package) in the test process, on a free
 * loopback port: the code flow with its own login and consent pages (its development
 * interactions: any password), client credentials for machines, JWT access tokens for the API's
 * audience with the account's or client's groups, RP-initiated logout, and key rotation.
 */
export interface TestProvider {
  issuer: string;
  /** The private key that signs now (the first of the key set), to mint tokens the provider would not. */
  signingKey: () => JWK;
  /** Requests for the key set (JWKS) so far. */
  jwksRequests: () => number;
  /** A new signing key, published first; the previous ones stay published for tokens already issued. */
  rotateKeys(): Promise<void>;
  /** An access token of a machine client (client credentials) for the API's audience. */
  clientToken(clientId: string): Promise<string>;
  close(): Promise<void>;
}

export interface ProviderOptions {
  /** The API's audience (OIDC_AUDIENCE): JWT access tokens are issued for it. */
  audience: string;
  /** The dashboard's client: its redirect and post-logout URLs. */
  dashboard: { clientId: string; clientSecret: string; publicUrl: string };
  /** People who sign in (login id -> claims; the groups claim is `groups`), and how long their access tokens last (default an hour). */
  accounts: Record<string, { name: string; email: string; groups: string[]; accessTokenSeconds?: number }>;
  /** Machine clients (client id -> groups), secret = `<id>-secret`. */
  machines: Record<string, string[]>;
}

async function signingJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `key-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`, alg: 'RS256', use: 'sig' };
}

export async function startTestProvider(options: ProviderOptions): Promise<TestProvider> {
  let jwksRequests = 0;
  let handle: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/jwks')) jwksRequests++;
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys: JWK[] = [await signingJwk()];

  const configure = () => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: options.dashboard.clientId,
          client_secret: options.dashboard.clientSecret,
          redirect_uris: [`${options.dashboard.publicUrl}/auth/callback`],
          post_logout_redirect_uris: [`${options.dashboard.publicUrl}/`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
        ...Object.keys(options.machines).map((id) => ({ client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] })),
      ],
      jwks: { keys: keys as never },
      findAccount: (_ctx, id) => {
        const account = options.accounts[id];
        return account ? { accountId: id, claims: async () => ({ sub: id, name: account.name, email: account.email, groups: account.groups }) } : undefined;
      },
      // The groups go in the ID token, as Okta, Entra ID and Keycloak can be configured to put them.
      claims: { openid: ['sub', 'groups'], profile: ['name'], email: ['email'] },
      conformIdTokenClaims: false,
      // As Keycloak does: a refresh token for the dashboard without offline_access, which ends with the provider's session.
      issueRefreshToken: (_ctx, client) => client.clientId === options.dashboard.clientId,
      ttl: { AccessToken: (_ctx, token) => (token.accountId ? options.accounts[token.accountId]?.accessTokenSeconds : undefined) ?? 3600 },
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        rpInitiatedLogout: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx, client) => (client.clientId in options.machines ? options.audience : undefined),
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'kpi', audience: options.audience, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const groups = token.clientId ? options.machines[token.clientId] : undefined;
        return groups ? { groups } : undefined;
      },
    });
    const callback = provider.callback();
    handle = (request, response) => void callback(request, response);
  };
  configure();

  return {
    issuer,
    signingKey: () => keys[0]!,
    jwksRequests: () => jwksRequests,
    async rotateKeys() {
      keys.unshift(await signingJwk());
      configure();
    },
    async clientToken(clientId) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientId}-secret`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: options.audience, scope: 'kpi' }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token) throw new Error(`client credentials of ${clientId}: ${response.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
