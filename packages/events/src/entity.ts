import type { CloudEvent, EventType } from './schemas.ts';

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
} as const satisfies Record<EventType, string | undefined>;

export function entityIdOf(event: CloudEvent): string {
  const key = entityKeyOfType[event.type];
  return key === undefined ? '' : String((event.data as Record<string, unknown>)[key] ?? '');
}

/** The team an event names itself; lifecycle events (mitigated, readout, ...) carry none. */
export function teamOf(event: CloudEvent): string {
  const team = (event.data as { team?: unknown }).team;
  return typeof team === 'string' ? team : '';
}

/** What recompute planning needs of an event, without holding the event itself. */
export interface EventRef {
  type: EventType;
  /** Validated RFC 3339. */
  time: string;
  /** '' for lifecycle events that carry none. */
  team: string;
  /** '' for types without an entity. */
  entityId: string;
}

export function eventRef(event: CloudEvent): EventRef {
  return { type: event.type, time: event.time, team: teamOf(event), entityId: entityIdOf(event) };
}
