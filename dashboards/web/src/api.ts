/** The API client: same origin, bearer token from the URL fragment or the sign-in form, kept in localStorage. */
import { createClient } from '@kpi/api-contract/client';

const TOKEN_KEY = 'kpi-dashboard-token';

/** 401 (no or wrong token) or 403 (the token's role may not read): the sign-in form again. */
export class Unauthorized extends Error {
  constructor(readonly status: 401 | 403) {
    super(status === 401 ? 'The API refused the token (401). Sign in again.' : 'This token may not read KPIs (403: its role is too low). Sign in with a read token.');
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
  mapError: (error) => {
    if (error.status === 401 || error.status === 403) return new Unauthorized(error.status);
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
