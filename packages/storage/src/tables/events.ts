import { z } from 'zod';
import type { Storage } from '../client.ts';

/**
 * `events`: every accepted CloudEvent once per (source, id) (migration 001), the record the
 * KPI tables are derived from (migration 011). Ingestion writes it; these are its readers.
 */
export const EVENTS_TABLE = 'events';

/** Columns ingestion writes, in the order of its TabSeparated lines. */
export const EVENT_COLUMNS = ['source', 'id', 'type', 'time', 'team', 'entity_id', 'data', 'topic', 'partition', 'offset'] as const;

/** Inserts TabSeparated event lines (EVENT_COLUMNS) in one statement; `token` makes a repeat of the same insert a no-op. */
export function insertEventLines(storage: Storage, lines: string, token: string): Promise<void> {
  // No view depends on `events` any more (ingestion writes the KPI tables itself, with tokens of their own).
  return storage.insertTabSeparated(EVENTS_TABLE, EVENT_COLUMNS, lines, { insert_deduplication_token: token });
}

const teamCounts = z.object({ team: z.string(), events: z.coerce.number(), last_event_at: z.string() });
const teamModels = z.object({ team: z.string(), models: z.array(z.string()) });

/** A team with the models its events name (GET /v1/teams). */
export interface TeamSummary {
  team: string;
  models: string[];
  events: number;
  last_event_at: string;
}

export const eventQueries = {
  /** Teams that have sent any event (before `before`, if given): the team scopes of a rebuild, a refresh, a report. */
  async knownTeams(storage: Storage, before?: Date): Promise<string[]> {
    const rows = await storage.query<{ team: string }>(
      "SELECT DISTINCT team FROM {db:Identifier}.events WHERE team != '' AND time < {before:DateTime64(3, 'UTC')} ORDER BY team",
      { before: (before ?? new Date('2200-01-01T00:00:00Z')).toISOString().replace('T', ' ').replace('Z', '') },
    );
    return rows.map((row) => row.team);
  },

  /**
   * Teams with how many events and the latest, and the models named by the events ingested at or
   * after `modelsSince` (all when omitted). Counts read two narrow columns; the models need the
   * JSON of each event, so a caller that keeps the models it saw asks only for the newer ones.
   */
  async teams(storage: Storage, modelsSince?: Date): Promise<TeamSummary[]> {
    const [counted, named] = await Promise.all([
      storage.query("SELECT team, count() AS events, toString(max(time)) AS last_event_at FROM {db:Identifier}.events WHERE team != '' GROUP BY team ORDER BY team"),
      storage.query(
        `SELECT team, groupUniqArray(model) AS models
         FROM (SELECT team, JSONExtractString(data, 'model_id') AS model FROM {db:Identifier}.events
               WHERE team != '' AND ingested_at >= {since:DateTime64(3, 'UTC')})
         WHERE model != '' GROUP BY team`,
        { since: (modelsSince ?? new Date(0)).toISOString().replace('T', ' ').replace('Z', '') },
      ),
    ]);
    const models = new Map(z.array(teamModels).parse(named).map((row) => [row.team, row.models]));
    return z
      .array(teamCounts)
      .parse(counted)
      .map((row) => ({ team: row.team, models: (models.get(row.team) ?? []).sort(), events: row.events, last_event_at: `${row.last_event_at.replace(' ', 'T')}Z` }));
  },

  /** The time of the earliest event, or null when there is none. */
  async firstEventTime(storage: Storage): Promise<Date | null> {
    const [row] = await storage.query<{ first: string | null }>('SELECT if(count() = 0, NULL, toString(min(time))) AS first FROM {db:Identifier}.events');
    return row?.first ? new Date(`${row.first.replace(' ', 'T')}Z`) : null;
  },

  /** How many events were stored in [from, to). */
  async countBetween(storage: Storage, from: Date, to: Date): Promise<number> {
    const chTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');
    const [row] = await storage.query<{ events: number }>(
      "SELECT count() AS events FROM {db:Identifier}.events WHERE time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}",
      { from: chTime(from), to: chTime(to) },
    );
    return Number(row?.events ?? 0);
  },
};
