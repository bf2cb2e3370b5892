import type { CustomEventType } from './custom.ts';
import type { AnyEvent } from './parse.ts';
import type { EventType, TopicKey } from './schemas.ts';
import { topicOfType } from './schemas.ts';

/** The field of each event type that names the entity the event is about. */
export const entityKeyOfType = {
  'release.deployed': 'release_id',
  'release.updated': 'release_id',
  'release.rolled_back': 'release_id',
  'model.evaluated': 'evaluation_id',
  'training.run_completed': 'run_id',
  'incident.opened': 'incident_id',
  'incident.updated': 'incident_id',
  'incident.mitigated': 'incident_id',
  'incident.resolved': 'incident_id',
  'alert.fired': 'alert_id',
  'alert.triaged': 'alert_id',
  'experiment.started': 'experiment_id',
  'experiment.readout': 'experiment_id',
  'experiment.decided': 'experiment_id',
  'serving.window': 'model_id',
  'dataset.arrived': 'dataset',
  'survey.response': undefined,
  'workitem.closed': 'item_id',
  'asset.reused': 'asset_id',
  'mentorship.recorded': 'record_id',
  'data.validated': 'validation_id',
} as const satisfies Record<EventType, string | undefined>;

/** The topic of an event type: custom types are signals (SPEC §3). */
export function topicOf(type: EventType | CustomEventType): TopicKey {
  return type in topicOfType ? topicOfType[type as EventType] : 'signals';
}

export function entityIdOf(event: AnyEvent): string {
  if (!(event.type in entityKeyOfType)) return '';
  const key = entityKeyOfType[event.type as EventType];
  return key === undefined ? '' : String((event.data as Record<string, unknown>)[key] ?? '');
}

/** The team an event names itself; lifecycle events (mitigated, readout, ...) carry none. */
export function teamOf(event: AnyEvent): string {
  const team = (event.data as { team?: unknown }).team;
  return typeof team === 'string' ? team : '';
}

/** What recompute planning needs of an event, without holding the event itself. */
export interface EventRef {
  type: EventType | CustomEventType;
  /** Validated RFC 3339. */
  time: string;
  /** '' for lifecycle events that carry none. */
  team: string;
  /** '' for types without an entity. */
  entityId: string;
  /** The event's data, kept only where planning reads it (custom KPIs over data fields). */
  data?: Record<string, unknown>;
}

export function eventRef(event: AnyEvent, keepData = false): EventRef {
  return { type: event.type, time: event.time, team: teamOf(event), entityId: entityIdOf(event), ...(keepData ? { data: event.data as Record<string, unknown> } : {}) };
}
