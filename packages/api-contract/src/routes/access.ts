import { z } from 'zod';
import { API_ROLES, AUDIT_ACTIONS, AUDIT_ID, auditEntry, PRINCIPAL_VIAS } from '@kpi/schemas';
import { defineRoute } from '../route.ts';
import { errorBody, instant, limit } from '../shared.ts';

import { CSRF_HEADER } from '../client.ts';

export const principal = z.object({
  name: z.string().describe('who, as the audit log names them: token:<fingerprint> for a static token, oidc:<subject> for the OpenID provider'),
  display: z.string().describe('a name for people: the token name, or the person\'s name or email'),
  role: z.enum(API_ROLES),
  teams: z.array(z.string()).nullable().describe('the teams it reads; null: every team and the organisation'),
  via: z.enum(PRINCIPAL_VIAS),
});

/** Visible ASCII: what OAuth codes, states and error codes are made of. */
const oauthText = z.string().regex(/^[\x21-\x7e]*$/, 'expected visible ASCII characters');
const auditId = z.string().regex(AUDIT_ID, 'expected the next_cursor of a previous answer');
const notConfigured = errorBody.describe('Sign-in with an OpenID provider is not configured (OIDC_ISSUER)');
const redirect = (description: string) => ({ description, headers: { location: { description: 'where the browser goes next', schema: { type: 'string' as const } } } });

export const accessRoutes = {
  signIn: defineRoute({
    method: 'GET',
    path: '/auth/login',
    access: 'public',
    teamScope: 'none',
    tags: ['access'],
    summary: "Starts the dashboard's sign-in: a redirect to the OpenID provider (authorization code flow with PKCE, state and nonce)",
    querystring: z.object({ return_to: z.string().regex(/^\/(?!\/)[^\s\\]{0,1023}$/, 'expected a path of this site, e.g. /?view=ops').optional().describe('where the dashboard opens after sign-in (a path of this site)') }),
    responses: { 302: redirect("To the provider's authorization endpoint"), 404: notConfigured },
  }),
  signInCallback: defineRoute({
    method: 'GET',
    path: '/auth/callback',
    access: 'public',
    teamScope: 'none',
    tags: ['access'],
    summary: "Where the provider sends the browser back: the code is exchanged (state, nonce and PKCE checked), the session cookie set, and the dashboard opened",
    // OAuth's character sets (RFC 6749 appendix A), and lengths that keep the whole URL within what the server reads.
    querystring: z.object({
      code: oauthText.max(2048).optional(),
      state: oauthText.max(256).optional(),
      iss: oauthText.max(512).optional(),
      error: oauthText.max(128).optional(),
      error_description: z.string().regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/, 'expected printable ASCII without " and \\').max(512).optional(),
    }),
    responses: {
      302: redirect('To the dashboard, signed in'),
      400: errorBody.describe("Refused: no sign-in of this browser with this state, a code the provider does not accept, a nonce or ID token that does not check, or the provider's error"),
      403: errorBody.describe("Signed in, but the person's groups give no role (OIDC_ROLE_MAP)"),
      404: notConfigured,
    },
  }),
  signOut: defineRoute({
    method: 'POST',
    path: '/auth/logout',
    access: 'read',
    teamScope: 'none',
    tags: ['access'],
    summary: "Ends the session (the cookie is cleared) and answers where to end the provider's session too",
    responses: { 200: z.object({ end_session_url: z.string().nullable().describe("the provider's end-session URL to open next (null: none, or not signed in with a session)") }) },
  }),
  getSession: defineRoute({
    method: 'GET',
    path: '/auth/session',
    access: 'public',
    teamScope: 'none',
    tags: ['access'],
    summary: 'Who the caller is (by its bearer token or session cookie), the anti-CSRF token of its session, and whether sign-in with the OpenID provider is offered',
    responses: {
      200: z.object({
        principal: principal.nullable().describe('null: no credentials, or credentials that are not valid (any more)'),
        csrf_token: z.string().nullable().describe(`with a session: the value of the ${CSRF_HEADER} header on requests that change something`),
        oidc: z.boolean().describe('sign-in with the OpenID provider is configured (GET /auth/login)'),
      }),
    },
  }),
  listAudit: defineRoute({
    method: 'GET',
    path: '/v1/audit',
    access: 'admin',
    teamScope: 'organisation',
    tags: ['access'],
    summary: 'The audit log: every change an admin made (targets, alert rules, silences, custom KPIs, triage, webhook replays, reports requested), newest first',
    description: 'Nothing changes or deletes an entry. Pages: pass the answer\'s next_cursor as cursor. from must be before to.',
    querystring: z.object({
      actor: z.string().max(512).optional(),
      action: z.enum(AUDIT_ACTIONS, { error: `expected one of ${AUDIT_ACTIONS.join(', ')}` }).optional(),
      target: z.string().max(512).optional(),
      team: z.string().max(64).optional(),
      from: instant.optional(),
      to: instant.optional(),
      cursor: auditId.optional().describe('the next_cursor of the previous page: entries older than that one'),
      limit: limit(1000, 100),
    }),
    responses: { 200: z.object({ entries: z.array(auditEntry), next_cursor: z.string().nullable().describe('the cursor of the next page; null on the last') }) },
  }),
};
