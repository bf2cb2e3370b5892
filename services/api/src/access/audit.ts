import type { FastifyRequest } from 'fastify';
import { auditLog, type AuditRecord, type Storage } from '@kpi/storage';

export type Change = Omit<AuditRecord, 'actor' | 'via'>;

/** Records one change an admin made, once it is made: who (the request's principal), what, before and after. */
export async function recordChange(storage: Storage, request: FastifyRequest, change: Change): Promise<void> {
  const principal = request.principal;
  if (!principal) throw new Error(`${request.method} ${request.url}: a change without a principal cannot be audited`);
  await auditLog.append(storage, { actor: principal.name, via: principal.via, ...change });
}
