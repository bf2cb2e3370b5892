import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE, routes } from '@kpi/api-contract';
import { auditLog } from '@kpi/storage';
import type { Runtime } from '@kpi/runtime';
import type { Authenticator } from '../access/authenticate.ts';
import { NoRole, SignInRefused, type OpenIdProvider } from '../access/oidc.ts';
import type { SessionStore } from '../access/sessions.ts';
import { BadRequest, toInstant } from '../input.ts';
import type { Serve } from '../serve.ts';

/** Binds a sign-in to the browser that started it: the callback's state must be this cookie's. */
const SIGN_IN_COOKIE = 'kpi_sign_in';

/**
 * Sign-in to the dashboard with the organisation's OpenID provider (SPEC 10), the caller's own
 * session, sign-out, and the audit log of admin changes.
 */
export const accessRoutes =
  (runtime: Runtime, serve: Serve, access: { authenticator: Authenticator; provider: OpenIdProvider | undefined; sessions: SessionStore }): FastifyPluginAsyncZod =>
  async (app) => {
    const { provider, sessions, authenticator } = access;
    const secure = runtime.config.publicUrl.startsWith('https:');
    const cookie = { httpOnly: true, sameSite: 'lax', secure, path: '/' } as const;
    const notConfigured = (reply: FastifyReply) => reply.code(404).send({ error: 'not_found', message: 'sign-in with an OpenID provider is not configured (OIDC_ISSUER)' });

    app.route({
      ...serve(routes.signIn),
      handler: async (request, reply) => {
        if (!provider) return notConfigured(reply);
        const { url, pending } = await provider.startSignIn(request.query.return_to ?? '/');
        await sessions.savePending(pending);
        reply.setCookie(SIGN_IN_COOKIE, pending.state, { ...cookie, path: '/auth/', maxAge: 600 });
        return reply.redirect(url, 302);
      },
    });

    app.route({
      ...serve(routes.signInCallback),
      handler: async (request, reply) => {
        if (!provider) return notConfigured(reply);
        const { state, error, error_description: description } = request.query;
        if (error) throw new BadRequest(`the provider refused the sign-in: ${error}${description ? ` (${description})` : ''}`);
        const started = request.cookies[SIGN_IN_COOKIE];
        // A state this browser did not start (tampered, or another browser's): refused, and the sign-in it started stays valid.
        if (!state || !started || started.length !== state.length || !timingSafeEqual(Buffer.from(started), Buffer.from(state))) {
          throw new BadRequest('state: this browser started no sign-in with this state; sign in again from the dashboard');
        }
        const pending = await sessions.takePending(state);
        if (!pending) throw new BadRequest('state: the sign-in expired or was completed already; sign in again from the dashboard');
        const callbackUrl = new URL(provider.redirectUri);
        callbackUrl.search = new URL(request.url, 'http://callback').search;
        let signedIn;
        try {
          signedIn = await provider.finishSignIn(callbackUrl, pending);
        } catch (failure) {
          if (failure instanceof SignInRefused) throw new BadRequest(failure.message);
          if (failure instanceof NoRole) return reply.code(403).send({ error: 'forbidden', message: failure.message });
          throw failure;
        }
        const { id, ttlSeconds } = await sessions.create(signedIn);
        reply.clearCookie(SIGN_IN_COOKIE, { ...cookie, path: '/auth/' });
        reply.setCookie(SESSION_COOKIE, id, { ...cookie, maxAge: ttlSeconds });
        return reply.redirect(pending.returnTo, 302);
      },
    });

    app.route({
      ...serve(routes.signOut),
      handler: async (request, reply) => {
        const session = request.session;
        if (!session) return { end_session_url: null };
        await sessions.end(session.id);
        reply.clearCookie(SESSION_COOKIE, cookie);
        return { end_session_url: provider ? await provider.endSessionUrl(session.session.idToken) : null };
      },
    });

    app.route({
      ...serve(routes.getSession),
      handler: async (request) => {
        const identified = await authenticator.identify(request);
        const known = identified && !('refused' in identified) ? identified : undefined;
        return { principal: known?.principal ?? null, csrf_token: known?.session?.session.csrf ?? null, oidc: provider !== undefined };
      },
    });

    app.route({
      ...serve(routes.listAudit),
      handler: async (request) => {
        const { cursor, from, to, limit, ...filter } = request.query;
        const [start, end] = [from ? toInstant(from) : undefined, to ? toInstant(to) : undefined];
        if (start && end && start >= end) throw new BadRequest('from: must be before to');
        const entries = await auditLog.list(runtime.storage, { ...filter, from: start, to: end, after: cursor, limit });
        return { entries, next_cursor: entries.length === limit ? entries.at(-1)!.id : null };
      },
    });
  };
