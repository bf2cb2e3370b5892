/**
 * The API client: same origin; a bearer token from the URL fragment or the sign-in form (kept in
 * localStorage), or the session cookie of a sign-in with the organisation's OpenID provider, whose
 * anti-CSRF token goes with every call.
 */
import { createClient, CSRF_HEADER } from '@kpi/api-contract/client';
import type { Principal } from '@kpi/api-contract';

let csrfToken: string | null = null;

const TOKEN_KEY = 'kpi-dashboard-token';

/** 401 (no, wrong or expired credentials: the sign-in page again) or 403 (the role or team scopes do not allow it). */
export class Unauthorized extends Error {
  constructor(
    readonly status: 401 | 403,
    apiMessage: string,
  ) {
    super(status === 401 ? 'The API refused the credentials (401). Sign in again.' : `Not allowed (403): ${apiMessage}`);
  }
}

/** 404: an endpoint this server does not have (yet), or an unknown KPI. */
export class NotAvailable extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives for this page only */
  }
  memoryToken = token;
}

let memoryToken: string | null = null;

/** Takes `#token=...` from the URL on first load, stores it and removes it from the address bar. */
export function adoptTokenFromFragment(): boolean {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  if (!token) return false;
  setToken(token);
  fragment.delete('token');
  const rest = fragment.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return true;
}

/**
 * The typed API client (packages/api-contract) with the page's token. A refused token is
 * Unauthorized (sign in again), a 404 NotAvailable, any other error an ApiError with the API's message.
 */
export const api = createClient({
  token: () => getToken() ?? memoryToken,
  headers: (): Record<string, string> => (csrfToken ? { [CSRF_HEADER]: csrfToken } : {}),
  mapError: (error) => {
    if (error.status === 401 || error.status === 403) return new Unauthorized(error.status, error.body?.message ?? error.message);
    if (error.status === 404) return new NotAvailable(error.message);
    return new ApiError(error.status, error.message);
  },
});

/** An optional endpoint: its 404 becomes `null` ("not available"), every other error is thrown. */
export async function optional<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof NotAvailable) return null;
    throw error;
  }
}

/** Who is signed in (a token, or the session cookie), and whether the OpenID provider's sign-in is offered. */
export async function whoAmI(): Promise<{ principal: Principal | null; oidc: boolean }> {
  const session = await api.get('/auth/session');
  csrfToken = session.csrf_token;
  return { principal: session.principal, oidc: session.oidc };
}

/** Ends the session: a token is forgotten; a provider sign-in is ended here, then at the provider (its end-session page comes back to /). */
export async function signOutEverywhere(principal: Principal | null): Promise<void> {
  setToken(null);
  if (principal?.via !== 'session') return;
  const { end_session_url: endSession } = await api.post('/auth/logout');
  csrfToken = null;
  location.assign(endSession ?? '/');
}
