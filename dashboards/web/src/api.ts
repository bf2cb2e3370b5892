/** The API client: same origin, bearer token from the URL fragment or the sign-in form, kept in localStorage. */

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

export async function apiGet<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value));
  const url = `${path}${query.size ? `?${query}` : ''}`;
  const token = getToken() ?? memoryToken;
  const response = await fetch(url, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal });
  if (response.status === 401 || response.status === 403) throw new Unauthorized(response.status);
  if (response.status === 404) throw new NotAvailable(`${path}: not available on this server`);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { message?: string };
      if (body.message) message = `${response.status}: ${body.message}`;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, `${path}: ${message}`);
  }
  return (await response.json()) as T;
}

/** An optional endpoint: its 404 becomes `null` ("not available"), every other error is thrown. */
export async function apiGetOptional<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T | null> {
  try {
    return await apiGet<T>(path, params, signal);
  } catch (error) {
    if (error instanceof NotAvailable) return null;
    throw error;
  }
}

/** POST JSON with the token; a refusal is thrown as ApiError carrying the API's message (403: the token's role is too low). */
export async function apiPost<T>(path: string, body: unknown): Promise<T> {
  const token = getToken() ?? memoryToken;
  const response = await fetch(path, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  let parsed: { message?: string } | undefined;
  try {
    parsed = (await response.json()) as { message?: string };
  } catch {
    /* not JSON */
  }
  if (!response.ok) throw new ApiError(response.status, parsed?.message ?? `${response.status} ${response.statusText}`);
  return parsed as T;
}
