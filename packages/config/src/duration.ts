/**
 * Durations as Prometheus and Alertmanager write them: a sequence of <integer><unit> with units
 * ms, s, m, h, d, w, largest first ("30s", "15m", "1h30m", "2d"), or "0".
 */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ORDER = ['w', 'd', 'h', 'm', 's', 'ms'];
const WHOLE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

export const DURATION_HINT = 'expected a duration such as 30s, 15m, 1h30m or 2d';

/** Milliseconds of a duration string; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  let last = -1;
  for (const [, amount, unit] of text.matchAll(PART)) {
    const rank = ORDER.indexOf(unit!);
    // Units largest first, each once: "1h30m", not "30m1h".
    if (rank <= last) return undefined;
    last = rank;
    total += Number(amount) * UNITS[unit!]!;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest duration string of a number of milliseconds: 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of ORDER) {
    const size = UNITS[unit]!;
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}
