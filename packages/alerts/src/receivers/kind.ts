import type { z } from 'zod';
import type { NotificationContent } from '../content.ts';

/**
 * How the alerts of a rule become notifications for a receiver type:
 * - `group_by`: Alertmanager's grouping by the rule's `group_by` labels, notified when the group's
 *   firing set changes and repeated every `repeat_interval`;
 * - `alert`: the same with every label as the group (one alert per notification), for receivers
 *   that take one alert per request;
 * - `snapshot`: every evaluation pushes the state of every alert of the rule, as Prometheus pushes
 *   to Alertmanager; the receiver does its own grouping, and a later snapshot supersedes an
 *   undelivered older one.
 */
export type Grouping = 'group_by' | 'alert' | 'snapshot';

/** Everything that differs between receiver types, in one place per type. */
export interface ReceiverKind<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  grouping: Grouping;
  /** Where a notification is POSTed. */
  endpoint(receiver: z.output<S>): string;
  /** Request headers of the receiver's own (e.g. Authorization). */
  headers(receiver: z.output<S>): Record<string, string>;
  /** The request body (JSON), from the notification's content. */
  body(content: NotificationContent, receiver: z.output<S>): unknown;
  /** Whether resolved alerts are announced. */
  sendsResolved(receiver: z.output<S>): boolean;
  /** The receiver as a reader (not an admin) may see it: secrets hidden. */
  redact(receiver: z.output<S>): z.output<S>;
}

export const defineReceiver = <S extends z.ZodObject>(kind: ReceiverKind<S>): ReceiverKind<S> => kind;
