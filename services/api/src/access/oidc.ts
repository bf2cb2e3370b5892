import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { Access, OidcConfig } from '@kpi/config';
import { DependencyUnavailable } from '@kpi/runtime';
import { accessFromClaims, oidcPrincipal, type Principal } from './principal.ts';

/** How long a request to the provider (discovery, keys, token endpoint) may take. */
const PROVIDER_TIMEOUT_MS = 5_000;
/** The redirect URL registered at the provider, below PUBLIC_URL. */
export const CALLBACK_PATH = '/auth/callback';

/** What a sign-in started: kept until the provider sends the browser back, then checked. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** A signed-in person as the session keeps them, and the provider's tokens that bound the session. */
export interface SignedIn {
  principal: Principal;
  idToken: string | undefined;
  refreshToken: string | undefined;
  /** When the access token expires: the session is renewed then (refresh token) or ends. */
  expiresAt: number;
}

/** The provider refused the sign-in, or what it sent does not check: a 400, naming why. */
export class SignInRefused extends Error {
  override name = 'SignInRefused';
}
/** The provider's groups give this person no role (OIDC_ROLE_MAP): a 403. */
export class NoRole extends Error {
  override name = 'NoRole';
}

/**
 * The organisation's OpenID provider, through openid-client (the relying party: discovery,
 * authorization code + PKCE, state and nonce, token refresh, end session) and jose (access tokens
 * as bearer tokens: signature against the provider's JWKS, iss, aud, exp, nbf). The provider's
 * metadata is discovered on first use and again after a failure, so the API starts while the
 * provider is away; until it answers, sign-in and provider tokens get a 503 naming it.
 */
export class OpenIdProvider {
  private discovered: Promise<{ config: client.Configuration; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  constructor(
    private readonly settings: OidcConfig,
    private readonly publicUrl: string,
  ) {}

  get redirectUri(): string {
    return `${this.publicUrl}${CALLBACK_PATH}`;
  }

  private metadata() {
    this.discovered ??= (async () => {
      const insecure = new URL(this.settings.issuer).protocol === 'http:';
      const auth = this.settings.clientSecret ? client.ClientSecretBasic(this.settings.clientSecret) : client.None();
      const config = await client.discovery(new URL(this.settings.issuer), this.settings.clientId, this.settings.clientSecret, auth, {
        // Configuration accepts http:// only for a loopback issuer (local use, tests).
        execute: insecure ? [client.allowInsecureRequests] : [],
        timeout: PROVIDER_TIMEOUT_MS / 1000,
      });
      const jwksUri = config.serverMetadata().jwks_uri;
      if (!jwksUri) throw new Error(`${this.settings.issuer} publishes no jwks_uri`);
      // An unknown kid fetches the keys again, at most once per jwksMinIntervalMs (jose's cooldown).
      const jwks = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: this.settings.jwksMinIntervalMs, timeoutDuration: PROVIDER_TIMEOUT_MS });
      return { config, jwks };
    })().catch((error: unknown) => {
      this.discovered = undefined;
      throw new DependencyUnavailable('oidc', `discovery of ${this.settings.issuer} failed: ${(error as Error).message}`, { cause: error });
    });
    return this.discovered;
  }

  /** Where to send the browser to sign in, and what to check when it comes back. */
  async startSignIn(returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const { config } = await this.metadata();
    const pending: PendingSignIn = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), returnTo };
    // No offline_access: a refresh token the provider gives lives with its session (Keycloak's does), so the dashboard's does too.
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** The provider sent the browser back: the code is exchanged, with state, nonce and PKCE checked. */
  async finishSignIn(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    const { config } = await this.metadata();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
    } catch (error) {
      throw refusal(error);
    }
    return this.signedIn(config, tokens, undefined);
  }

  /** A session whose access token expired: renewed with its refresh token, or undefined when the provider's session has ended. */
  async renew(session: SignedIn): Promise<SignedIn | undefined> {
    if (!session.refreshToken) return undefined;
    const { config } = await this.metadata();
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(config, session.refreshToken);
    } catch (error) {
      if (error instanceof client.ResponseBodyError) return undefined;
      throw new DependencyUnavailable('oidc', `refreshing a session failed: ${(error as Error).message}`, { cause: error });
    }
    try {
      return await this.signedIn(config, tokens, session);
    } catch {
      return undefined;
    }
  }

  /** The provider's end-session URL, which ends its session too and comes back to the dashboard. */
  async endSessionUrl(idToken: string | undefined): Promise<string | null> {
    const { config } = await this.metadata();
    if (!config.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(config, { post_logout_redirect_uri: `${this.publicUrl}/`, client_id: this.settings.clientId, ...(idToken ? { id_token_hint: idToken } : {}) }).href;
  }

  /**
   * A bearer token that is a JWT access token of the provider: the principal it names, or
   * undefined when it does not check (signature, issuer, audience, expiry, not-before) or gives no role.
   */
  async verifyAccessToken(token: string): Promise<Principal | undefined> {
    const { jwks } = await this.metadata();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: this.settings.issuer, audience: this.settings.audience, requiredClaims: ['sub', 'exp'] }));
    } catch (error) {
      // The keys could not be fetched: the provider is away, not the token wrong.
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && !(error instanceof joseErrors.JOSEError))) {
        throw new DependencyUnavailable('oidc', `the provider's keys could not be read: ${error.message}`, { cause: error });
      }
      return undefined;
    }
    const access = accessFromClaims(payload, this.settings);
    return access && oidcPrincipal(payload, access, 'bearer');
  }

  private async signedIn(config: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, previous: SignedIn | undefined): Promise<SignedIn> {
    const idClaims = tokens.claims();
    const claims: Record<string, unknown> = { ...(idClaims ?? {}) };
    const subject = idClaims?.sub ?? previous?.principal.name.replace(/^oidc:/, '');
    if (!subject) throw new SignInRefused('the provider returned no ID token');
    // Providers that keep groups out of the ID token (as the code flow's conformant default) give them at the userinfo endpoint.
    if (claims[this.settings.groupsClaim] === undefined && config.serverMetadata().userinfo_endpoint) {
      Object.assign(claims, await client.fetchUserInfo(config, tokens.access_token, subject), { sub: subject });
    }
    const access: Access | undefined = accessFromClaims(claims, this.settings);
    if (!access) throw new NoRole(`${String(claims.email ?? subject)} signed in, but none of their groups (claim ${this.settings.groupsClaim}) gives a role in OIDC_ROLE_MAP`);
    const lifetime = tokens.expiresIn() ?? (idClaims?.exp ? idClaims.exp - Math.floor(Date.now() / 1000) : 300);
    return {
      principal: oidcPrincipal(claims, access, 'session'),
      idToken: tokens.id_token ?? previous?.idToken,
      refreshToken: tokens.refresh_token ?? previous?.refreshToken,
      expiresAt: Date.now() + lifetime * 1000,
    };
  }
}

/** What the provider or the checks said, as a 400; an unreachable provider stays a 503. */
function refusal(error: unknown): Error {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) return new SignInRefused(`the provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
  if (error instanceof Error && 'code' in error && String(error.code).startsWith('OAUTH_')) return new SignInRefused(`the sign-in does not check: ${error.message}`);
  return new DependencyUnavailable('oidc', `the token endpoint did not answer: ${(error as Error).message}`, { cause: error });
}
