import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { API_ROLES } from '@kpi/config';
import { PRINCIPAL_VIAS } from '@kpi/storage';
import type { Runtime } from '@kpi/runtime';
import type { PendingSignIn, SignedIn } from './oidc.ts';

/** A sign-in started must come back within this. */
const PENDING_TTL_S = 600;
/** A session with a refresh token lives on while the provider renews it; this bounds how long Redis keeps an idle one. */
const RENEWABLE_TTL_S = 30 * 24 * 3600;

const pendingSchema = z.object({ state: z.string(), nonce: z.string(), verifier: z.string(), returnTo: z.string() });
const sessionSchema = z.object({
  principal: z.object({ name: z.string(), display: z.string(), role: z.enum(API_ROLES), teams: z.array(z.string()).nullable(), via: z.enum(PRINCIPAL_VIAS) }),
  idToken: z.string().optional(),
  refreshToken: z.string().optional(),
  expiresAt: z.number(),
  csrf: z.string(),
});
/** A signed-in person's session: what the provider gave, and the anti-CSRF token of the dashboard. */
export type Session = SignedIn & { csrf: string };

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Sign-ins in progress and sessions, in Redis so every API replica knows them. A session is keyed
 * by a digest of its cookie value (what Redis holds cannot be presented as a cookie) and carries
 * the anti-CSRF token the dashboard sends back on requests that change something.
 */
export class SessionStore {
  constructor(
    private readonly redis: Runtime['redis'],
    private readonly prefix: string,
  ) {}

  private key = (kind: 'pending' | 'session', id: string) => `${this.prefix}:auth:${kind}:${digest(id)}`;

  async savePending(pending: PendingSignIn): Promise<void> {
    await this.redis.set(this.key('pending', pending.state), JSON.stringify(pending), 'EX', PENDING_TTL_S);
  }

  /** The sign-in this state started, once: a second callback with it finds nothing. */
  async takePending(state: string): Promise<PendingSignIn | undefined> {
    const text = await this.redis.getdel(this.key('pending', state));
    return text === null ? undefined : pendingSchema.parse(JSON.parse(text));
  }

  /** A new session; its id is the cookie's value. */
  async create(signedIn: SignedIn): Promise<{ id: string; session: Session; ttlSeconds: number }> {
    const id = randomBytes(32).toString('base64url');
    const session = { ...signedIn, csrf: randomBytes(24).toString('base64url') };
    return { id, session, ttlSeconds: await this.save(id, session) };
  }

  async get(id: string): Promise<Session | undefined> {
    const text = await this.redis.get(this.key('session', id));
    if (text === null) return undefined;
    const parsed = sessionSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as Session) : undefined;
  }

  /** Keeps the session until its access token expires, or while it can be renewed; the seconds it is kept. */
  async save(id: string, session: Session): Promise<number> {
    const ttlSeconds = session.refreshToken ? RENEWABLE_TTL_S : Math.max(1, Math.ceil((session.expiresAt - Date.now()) / 1000));
    await this.redis.set(this.key('session', id), JSON.stringify(session), 'EX', ttlSeconds);
    return ttlSeconds;
  }

  async end(id: string): Promise<void> {
    await this.redis.del(this.key('session', id));
  }
}
