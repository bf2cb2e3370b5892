import { z } from 'zod';
import type { NotificationContent } from '../content.ts';
import { alertmanager } from './alertmanager.ts';
import { receiverName } from './common.ts';
import type { Grouping, ReceiverKind } from './kind.ts';
import { pagerduty } from './pagerduty.ts';
import { slack } from './slack.ts';
import { teams } from './teams.ts';
import { webhook } from './webhook.ts';

export { slackMessage } from './slack.ts';
export { teamsMessage } from './teams.ts';
export { pagerdutyEvent } from './pagerduty.ts';
export { postableAlerts, type PostableAlert } from './alertmanager.ts';
export type { Grouping } from './kind.ts';

export const RECEIVER_KINDS = { webhook, slack, alertmanager, teams, pagerduty };
export const RECEIVER_TYPES = Object.keys(RECEIVER_KINDS) as (keyof typeof RECEIVER_KINDS)[];

export const receiverSchema = z.discriminatedUnion('type', [webhook.schema, slack.schema, alertmanager.schema, teams.schema, pagerduty.schema], {
  error: `expected type ${RECEIVER_TYPES.join(', ')}`,
});
/** A receiver with its name resolved, as parsed rules carry (and the API serves) it. */
export const namedReceiverSchema = z.discriminatedUnion('type', [
  webhook.schema.extend({ name: receiverName }),
  slack.schema.extend({ name: receiverName }),
  alertmanager.schema.extend({ name: receiverName }),
  teams.schema.extend({ name: receiverName }),
  pagerduty.schema.extend({ name: receiverName }),
]);
export type ReceiverInput = z.input<typeof receiverSchema>;
/** A receiver with its name resolved (`<type>-<n>` when the rule gives none). */
export type Receiver = z.output<typeof receiverSchema> & { name: string };

// The behaviour of the receiver's own type (each kind takes exactly the receivers of its type).
const kindOf = (receiver: Receiver) => RECEIVER_KINDS[receiver.type] as ReceiverKind<z.ZodObject>;

export const groupingOf = (receiver: Receiver): Grouping => kindOf(receiver).grouping;
export const endpointOf = (receiver: Receiver): string => kindOf(receiver).endpoint(receiver);
export const headersOf = (receiver: Receiver): Record<string, string> => kindOf(receiver).headers(receiver);
export const sendsResolved = (receiver: Receiver): boolean => kindOf(receiver).sendsResolved(receiver);
export const bodyOf = (content: NotificationContent, receiver: Receiver): string => JSON.stringify(kindOf(receiver).body(content, receiver));
/** The receiver as a reader may see it: header values, hook paths and routing keys hidden. */
export const redactReceiver = (receiver: Receiver): Receiver => kindOf(receiver).redact(receiver) as Receiver;
