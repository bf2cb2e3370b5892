import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Storage } from '@kpi/storage';
import { DURATION_HINT, parseDuration } from '@kpi/config';
import { matches, matchesAll, matcherSchema, type Labels, type Matcher } from './labels.ts';

/**
 * Silences as in Alertmanager: label matchers and a time window. An alert matching every matcher
 * of a silence in force is muted: no notification mentions it (firing or resolved) until the
 * silence ends; then it is notified as any other. Stored in ClickHouse; expiring one early
 * writes a new version with ends_at = now.
 */
const instant = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp, e.g. 2026-11-20T10:00:00Z' });

export const silenceInputSchema = z
  .object({
    matchers: z.array(matcherSchema, { error: 'expected a list of matchers {name, value, op}' }).min(1, 'at least one matcher'),
    starts_at: instant.optional(),
    /** When the silence ends; or give `duration` instead. */
    ends_at: instant.optional(),
    duration: z.string().optional(),
    created_by: z.string().min(1).max(256).default('api'),
    comment: z.string().max(2000).default(''),
  })
  .strict()
  .superRefine((input, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (input.ends_at === undefined && input.duration === undefined) issue('ends_at', 'required: when the silence ends (or a duration)');
    if (input.ends_at !== undefined && input.duration !== undefined) issue('duration', 'give either ends_at or duration, not both');
    if (input.duration !== undefined) {
      const ms = parseDuration(input.duration);
      if (ms === undefined) issue('duration', `${DURATION_HINT}; got ${JSON.stringify(input.duration)}`);
      else if (ms === 0) issue('duration', 'must be longer than 0s');
    }
    const starts = input.starts_at ? Date.parse(input.starts_at) : Date.now();
    if (input.ends_at !== undefined) {
      const ends = Date.parse(input.ends_at);
      if (ends <= Date.now()) issue('ends_at', 'is in the past: the silence would never be in force');
      else if (ends <= starts) issue('ends_at', `must be after starts_at (${new Date(starts).toISOString()})`);
    }
    // As Alertmanager: a silence whose every matcher matches the empty string would mute everything.
    const empty = input.matchers.map((matcher) => matchesEmpty(matcher));
    for (const [index, outcome] of empty.entries()) if (typeof outcome === 'string') issue('matchers', `[${index}] ${outcome}`);
    if (input.matchers.length > 0 && empty.every((outcome) => outcome === true)) {
      issue('matchers', 'at least one matcher must not match the empty string (this silence would mute every alert)');
    }
  });
export type SilenceInput = z.input<typeof silenceInputSchema>;

/** Whether a matcher matches an alert with no labels, or why it cannot be applied at all. */
function matchesEmpty(matcher: Matcher): boolean | string {
  try {
    return matches(matcher, {});
  } catch (error) {
    return `${matcher.name}${matcher.op}${JSON.stringify(matcher.value)} cannot be applied: ${(error as Error).message}`;
  }
}

export type SilenceState = 'pending' | 'active' | 'expired';

export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  created_at: string;
  updated_at: string;
}

export function silenceState(silence: Silence, now: number): SilenceState {
  if (Date.parse(silence.ends_at) <= now) return 'expired';
  return Date.parse(silence.starts_at) > now ? 'pending' : 'active';
}

/** The ids of the silences in force at `now` that mute an alert with these labels. */
export function silencedBy(silences: Silence[], labels: Labels, now: number): string[] {
  return silences.filter((silence) => silenceState(silence, now) === 'active' && matchesAll(silence.matchers, labels)).map((silence) => silence.id);
}

const chTime = (instant: number) => new Date(instant).toISOString().replace('T', ' ').replace('Z', '');
const fromCh = (text: string) => new Date(/Z$|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`).toISOString();

/** Builds a silence from validated input (starts now unless given). */
export function newSilence(input: z.output<typeof silenceInputSchema>, now = Date.now()): Silence {
  const starts = input.starts_at ? Date.parse(input.starts_at) : now;
  const ends = input.ends_at ? Date.parse(input.ends_at) : starts + parseDuration(input.duration!)!;
  const stamp = new Date(now).toISOString();
  return {
    id: randomUUID(),
    matchers: input.matchers,
    starts_at: new Date(starts).toISOString(),
    ends_at: new Date(ends).toISOString(),
    created_by: input.created_by,
    comment: input.comment,
    created_at: stamp,
    updated_at: stamp,
  };
}

export async function saveSilence(storage: Storage, silence: Silence): Promise<void> {
  await storage.insert('alert_silences', [
    {
      id: silence.id,
      matchers: JSON.stringify(silence.matchers),
      starts_at: chTime(Date.parse(silence.starts_at)),
      ends_at: chTime(Date.parse(silence.ends_at)),
      created_by: silence.created_by,
      comment: silence.comment,
      created_at: chTime(Date.parse(silence.created_at)),
      updated_at: chTime(Date.parse(silence.updated_at)),
    },
  ]);
}

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  created_at: string;
  updated_at: string;
}

const fromRow = (row: SilenceRow): Silence => ({
  id: row.id,
  matchers: JSON.parse(row.matchers) as Matcher[],
  starts_at: fromCh(row.starts_at),
  ends_at: fromCh(row.ends_at),
  created_by: row.created_by,
  comment: row.comment,
  created_at: fromCh(row.created_at),
  updated_at: fromCh(row.updated_at),
});

/** Silences ending after `since` (all of them when not given), newest first. */
export async function listSilences(storage: Storage, since?: number): Promise<Silence[]> {
  const rows = await storage.query<SilenceRow>(
    `SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at
     FROM {db:Identifier}.alert_silences FINAL
     WHERE ends_at > {since:DateTime64(3, 'UTC')}
     ORDER BY created_at DESC
     LIMIT 10000`,
    { since: chTime(since ?? 0) },
  );
  return rows.map(fromRow);
}

export async function getSilence(storage: Storage, id: string): Promise<Silence | undefined> {
  const [row] = await storage.query<SilenceRow>(
    `SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at
     FROM {db:Identifier}.alert_silences FINAL WHERE id = {id:String}`,
    { id },
  );
  return row ? fromRow(row) : undefined;
}

/** Ends a silence now (a no-op for one already over). Returns the silence as it now stands. */
export async function expireSilence(storage: Storage, silence: Silence, now = Date.now()): Promise<Silence> {
  if (Date.parse(silence.ends_at) <= now) return silence;
  const expired = { ...silence, ends_at: new Date(Math.max(now, Date.parse(silence.starts_at))).toISOString(), updated_at: new Date(now).toISOString() };
  // A pending silence expired before it started ends at its start: it never was in force.
  await saveSilence(storage, expired);
  return expired;
}
