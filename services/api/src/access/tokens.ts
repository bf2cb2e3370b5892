import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Access, Config } from '@kpi/config';
import type { Principal } from './principal.ts';

/** A static token's name in the audit log and on the dashboard: never the token, a fingerprint of it. */
export const tokenName = (token: string) => `token:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;

/**
 * The static tokens the API accepts: KPI_API_TOKENS when set; otherwise one admin token generated
 * on first start and kept in the data directory, so a restart prints the same one.
 */
export function resolveTokens(config: Config): { tokens: Map<string, Access>; generated: string | undefined } {
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
  return { tokens: new Map([[token, { role: 'admin', teams: undefined }]]), generated: token };
}

/** Finds a presented token among the static ones with a constant-time compare. */
export function staticTokens(tokens: Map<string, Access>) {
  const known = [...tokens.entries()].map(([token, access]) => ({ bytes: Buffer.from(token), principal: { name: tokenName(token), display: tokenName(token), role: access.role, teams: access.teams ?? null, via: 'token' } satisfies Principal }));
  return (presented: string): Principal | undefined => {
    const bytes = Buffer.from(presented);
    return known.find((candidate) => candidate.bytes.length === bytes.length && timingSafeEqual(candidate.bytes, bytes))?.principal;
  };
}
