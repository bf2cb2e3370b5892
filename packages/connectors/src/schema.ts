import { z } from 'zod';
import { DURATION_HINT, parseDuration } from '@kpi/config';
import { TEAM_PATTERN } from '@kpi/events';

/** Config pieces the connectors share. */
export const team = z.string().regex(TEAM_PATTERN, `expected a team slug matching ${TEAM_PATTERN.source}`);
export const tier = z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'expected 1, 2 or 3' });
export const secret = z.string().min(8, 'expected a shared secret of at least 8 characters');
export const token = z.string().min(8, 'expected a token of at least 8 characters');
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).transform((url) => url.replace(/\/+$/, ''));
export const teamAndTier = z.strictObject({ team, tier });
export const severity = z.enum(['sev0', 'sev1', 'sev2', 'sev3']);
export const category = z.enum(['model', 'data_pipeline', 'data_quality', 'infrastructure', 'other']);
export type Severity = z.infer<typeof severity>;
export type Category = z.infer<typeof category>;
/** A duration as Prometheus writes it ("60s", "5m"), in milliseconds. */
export const duration = z.string().transform((text, context) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    context.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return ms;
});

/** A boolean fact as tools write it in tags or labels ("true", "yes", "1", ...); undefined when it is none of those. */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const normal = value.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(normal)) return true;
  if (['false', 'no', '0'].includes(normal)) return false;
  return undefined;
}

/** A tier as tools write it (1, "1", "tier1", "tier-1"); undefined otherwise. */
export function tierOf(value: unknown): 1 | 2 | 3 | undefined {
  const match = /^(?:tier[-_ ]?)?([123])$/i.exec(String(value ?? '').trim());
  return match ? (Number(match[1]) as 1 | 2 | 3) : undefined;
}
