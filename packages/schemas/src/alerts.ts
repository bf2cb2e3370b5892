import { z } from 'zod';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An alert's states; how it moves between them: @kpi/alerts (state.ts). */
export const ALERT_STATES = ['inactive', 'pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;

/** A label matcher as Alertmanager's silences use them; regular expressions are anchored (full match). */
export const matcherSchema = z
  .object({
    name: z.string({ error: 'expected a label name' }).regex(LABEL_NAME, 'expected a label name (^[a-zA-Z_][a-zA-Z0-9_]*$)'),
    value: z.string({ error: 'expected a string' }).max(1024),
    op: z.enum(MATCH_OPS, { error: `expected one of ${MATCH_OPS.join(' ')}` }).default('='),
  })
  .strict()
  .superRefine((matcher, ctx) => {
    if (matcher.op === '=~' || matcher.op === '!~') {
      try {
        new RegExp(`^(?:${matcher.value})$`);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `not a valid regular expression: ${(error as Error).message}` });
      }
    }
  });
export type Matcher = z.output<typeof matcherSchema>;
