import { setTimeout as sleep } from 'node:timers/promises';
import { incidentPageUrl, type ServicenowConfig } from './servicenow.ts';

const TIMEOUT_MS = 30_000;
/** Attempts per page before the poll gives up (the next poll starts again from the cursor). */
export const SERVICENOW_ATTEMPTS = 6;
const BACKOFF_MS = 500;
const MAX_WAIT_MS = 60_000;

/** A failed attempt at a page, for the poll's state and /metrics. */
export interface FailedAttempt {
  /** `http_429`, `http_5xx`, `http_4xx` (not retried) or `network`. */
  kind: 'http_429' | 'http_5xx' | 'http_4xx' | 'network';
  message: string;
  attempt: number;
  /** How long until the next attempt; undefined when there is none. */
  retryInMs?: number;
}

export class ServicenowUnavailable extends Error {
  override name = 'ServicenowUnavailable';
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The instance's Table API with Basic auth. A page is asked for again, up to SERVICENOW_ATTEMPTS
 * times, when the instance rate-limits (429: after its `Retry-After`) or fails (5xx, or no answer:
 * after an exponential backoff); a 4xx (wrong credentials, no read access) is not retried. Throws
 * ServicenowUnavailable when the attempts are used up or the signal aborts (a stopping worker).
 */
export function servicenowTableApi(config: ServicenowConfig, fetchImpl: typeof fetch = fetch) {
  const authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}`;
  return {
    /** The raw body of one page (what is archived and mapped). */
    async page(cursor: string, offset: number, signal: AbortSignal, onFailure: (failure: FailedAttempt) => void | Promise<void>): Promise<string> {
      const url = incidentPageUrl(config, cursor, offset);
      for (let attempt = 1; ; attempt++) {
        let failure: Omit<FailedAttempt, 'attempt' | 'retryInMs'>;
        let wait: number | undefined;
        try {
          const response = await fetchImpl(url, { headers: { authorization, accept: 'application/json' }, signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) });
          if (response.ok) return await response.text();
          const status = `GET /api/now/table/incident (offset ${offset}): HTTP ${response.status}`;
          await response.body?.cancel();
          if (response.status === 429) {
            failure = { kind: 'http_429', message: `${status} (rate limited)` };
            wait = retryAfterMs(response.headers.get('retry-after'));
          } else if (response.status >= 500) {
            failure = { kind: 'http_5xx', message: status };
          } else {
            const failed = { kind: 'http_4xx' as const, message: `${status}: check servicenow.user, servicenow.password and the user's read access to the incident table`, attempt };
            await onFailure(failed);
            throw new ServicenowUnavailable(failed.message);
          }
        } catch (error) {
          if (error instanceof ServicenowUnavailable) throw error;
          if (signal.aborted) throw new ServicenowUnavailable('the poll was stopped');
          failure = { kind: 'network', message: `GET /api/now/table/incident (offset ${offset}): ${(error as Error).message}` };
        }
        const retryInMs = attempt < SERVICENOW_ATTEMPTS ? Math.min(wait ?? BACKOFF_MS * 2 ** (attempt - 1), MAX_WAIT_MS) : undefined;
        await onFailure({ ...failure, attempt, ...(retryInMs !== undefined ? { retryInMs } : {}) });
        if (retryInMs === undefined) throw new ServicenowUnavailable(`${failure.message}, ${SERVICENOW_ATTEMPTS} attempts`);
        await sleep(retryInMs, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) throw new ServicenowUnavailable('the poll was stopped');
      }
    },
  };
}
