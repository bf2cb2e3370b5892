import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRole, Config } from '@kpi/config';

const rank: Record<ApiRole, number> = { read: 1, ingest: 2, admin: 3 };

/**
 * The tokens the API accepts: KPI_API_TOKENS when set; otherwise one admin token generated
 * on first start and kept in the data directory, so a restart prints the same one.
 */
export function resolveTokens(config: Config): { tokens: Map<string, ApiRole>; generated: string | undefined } {
  if (config.apiTokens && config.apiTokens.size > 0) return { tokens: config.apiTokens, generated: undefined };
  const file = join(config.dataDir, 'api-token');
  let token: string;
  if (existsSync(file)) {
    token = readFileSync(file, 'utf8').trim();
  } else {
    mkdirSync(config.dataDir, { recursive: true });
    token = `kpi_${randomBytes(24).toString('base64url')}`;
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  return { tokens: new Map([[token, 'admin']]), generated: token };
}

/** A preHandler that demands a bearer token of at least `role`: 401 when missing or unknown, 403 when too low. */
export function requireRole(tokens: Map<string, ApiRole>, role: ApiRole) {
  const known = [...tokens.entries()].map(([token, tokenRole]) => ({ token: Buffer.from(token), role: tokenRole }));
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const presented = match ? Buffer.from(match[1]!) : undefined;
    const entry = presented && known.find((candidate) => candidate.token.length === presented.length && timingSafeEqual(candidate.token, presented));
    if (!entry) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: match ? 'unknown API token' : 'missing bearer token (Authorization: Bearer <token>)' });
    }
    if (rank[entry.role] < rank[role]) {
      return reply.code(403).send({ error: 'forbidden', message: `this endpoint needs the ${role} role; the token has ${entry.role}` });
    }
    request.role = entry.role;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    role?: ApiRole;
  }
}
