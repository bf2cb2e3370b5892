import { createHash } from 'node:crypto';
import { parseEvent, type AnyEvent, type DataInput, type EventType } from '@kpi/events';

/** An event a mapping built, validated against the schemas before anything is produced. */
export interface DraftEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

const MAX_ID = 128;

/** Event ids stay within the contract's 128 characters: a longer identity is replaced by its digest. */
const eventId = (identity: string) => (identity.length <= MAX_ID ? identity : `sha256:${createHash('sha256').update(identity).digest('hex')}`);

export function draftEvent<T extends EventType>(type: T, data: DataInput<T>, meta: { source: string; id: string; time: string }): DraftEvent {
  return { specversion: '1.0', id: eventId(meta.id), source: meta.source, type, time: meta.time, datacontenttype: 'application/json', data: data as Record<string, unknown> };
}

/** Every draft validated, or the first problem named (`release.deployed data.team: ...`). */
export function validateDrafts(drafts: DraftEvent[]): { ok: true; events: AnyEvent[] } | { ok: false; reason: string } {
  const events: AnyEvent[] = [];
  for (const draft of drafts) {
    const parsed = parseEvent(draft);
    if (!parsed.ok) return { ok: false, reason: `${draft.type}: ${parsed.error}` };
    events.push(parsed.event);
  }
  return { ok: true, events };
}
