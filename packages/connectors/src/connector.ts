import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DataInput } from '@kpi/events';
import type { DraftEvent } from './events.ts';

/** One webhook request as it arrived: the raw bytes are what signatures are computed over. */
export interface RawDelivery {
  body: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The query string's parameters (Evidently's team and model are posted there). */
  query: Record<string, string>;
  receivedAt: Date;
}

/**
 * What a connector made of a delivery (SPEC §8 answers):
 * - events: produce them (202); `skipped` names the records of a pulled page that could not be
 *   mapped (the page is kept for replay, like an unmappable delivery);
 * - deployment: a production deploy, resolved against the model's release history into a release
 *   or a rollback (see deployments.ts) before producing;
 * - ignored: nothing to measure (200, so the sender does not retry);
 * - unmappable: a field we need is missing or wrong (422, kept for replay);
 * - bad_request: the body cannot be read (400);
 * - retry: a system we read from (the MLflow registry) did not answer (503, so the sender retries).
 */
export type Mapped =
  | { kind: 'events'; events: DraftEvent[]; pulls?: ResultsPull[]; skipped?: string[] }
  | { kind: 'deployment'; deployment: Deployment }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unmappable'; reason: string }
  | { kind: 'bad_request'; reason: string }
  | { kind: 'retry'; reason: string };

/** A follow-up for the worker: pull a GrowthBook experiment's results (while it runs, and once when it stops). */
export interface ResultsPull {
  experiment: string;
  final: boolean;
}

/** A production deploy as a deploy tool reports it, before rollback inference. */
export interface Deployment {
  /** The connector: the `source` of the events. */
  source: string;
  /** Event ids, derived from the sender's identity of the change: of the release, and the prefix of rollbacks. */
  ids: { deployed: string; rollback: string };
  /** When production moved. */
  time: string;
  release: DataInput<'release.deployed'>;
  /** The tool says so (a GitHub deployment with task `rollback`), whatever the history. */
  rollback?: { of?: string };
}

export const ignored = (reason: string): Mapped => ({ kind: 'ignored', reason });
export const unmappable = (reason: string): Mapped => ({ kind: 'unmappable', reason });
export const badRequest = (reason: string): Mapped => ({ kind: 'bad_request', reason });

/** Constant-time comparison of two strings (false for different lengths, without comparing). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export const hmacSha256 = (secret: string, ...parts: (string | Buffer)[]) => {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
};

/** A header carrying `<prefix><hex HMAC-SHA256 of the raw body>` (GitHub's `X-Hub-Signature-256`, Jira's `X-Hub-Signature`). */
export function verifyHexHmac(delivery: RawDelivery, header: string, secret: string, prefix: string): string | undefined {
  const signature = delivery.headers[header];
  if (!signature) return `missing ${header}`;
  return safeEqual(signature, `${prefix}${hmacSha256(secret, delivery.body).toString('hex')}`) ? undefined : `${header} does not match the body`;
}

/** `Authorization: Bearer <token>` for the connectors that authenticate with a token. */
export function verifyBearer(delivery: RawDelivery, token: string): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(delivery.headers.authorization ?? '');
  if (!match) return 'missing bearer token (Authorization: Bearer <connector token>)';
  return safeEqual(match[1]!, token) ? undefined : 'wrong bearer token';
}

/** The body as JSON, or why it cannot be read. */
export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The value of the first `<key>:<value>` tag or label (`team:ranking`), as tools tag things. */
export const tagValue = (tags: readonly string[], key: string): string | undefined => str(tags.find((tag) => tag.startsWith(`${key}:`))?.slice(key.length + 1).trim());

/** Milliseconds-precision UTC RFC 3339 of any timestamp a tool sends (ISO string or epoch ms/s). */
export function rfc3339(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  if (typeof value !== 'string' || value === '') return undefined;
  // Jira writes offsets without a colon (`2026-05-01T10:00:00.000+0000`), which RFC 3339 parsers need.
  const instant = Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(instant) ? undefined : new Date(instant).toISOString();
}
