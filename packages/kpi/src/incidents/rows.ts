import { raw, sql } from '@kpi/storage';
import { defineSource, entitiesWithEventsIn, LATEST } from '../source.ts';

/**
 * One row per incident opened: per field, the latest `incident.opened` or `incident.updated`
 * carrying it (SPEC §3; ties to the later ingested); `started_at` NULL when no event reported it;
 * `mitigated_at` the earliest mitigation, else the earliest resolution (a resolved incident was
 * mitigated by then).
 */
export const incidents = defineSource({
  name: 'incidents',
  entity: 'incident',
  tiered: true,
  eventTypes: ['incident.opened', 'incident.updated', 'incident.mitigated', 'incident.resolved'],
  planning: { kind: 'entity', table: 'incident_events', definingType: 'incident.opened', team: raw("anyIf(team, type = 'incident.opened')") },
  rows: (ranges) => sql`
    SELECT
      entity_id,
      argMaxIf(team, ${LATEST}, type = 'incident.opened') AS team,
      coalesce(argMaxIf(tier, ${LATEST}, tier IS NOT NULL), 0) AS tier,
      argMaxIf(severity, ${LATEST}, severity IS NOT NULL) AS severity,
      argMaxIf(category, ${LATEST}, category IS NOT NULL) AS category,
      argMaxIf(model_id, ${LATEST}, type = 'incident.opened') AS model_id,
      argMaxIf(started_at, ${LATEST}, started_at IS NOT NULL) AS started_at,
      argMaxIf(detected_at, ${LATEST}, detected_at IS NOT NULL) AS detected_at,
      minIf(time, type = 'incident.opened') AS opened_at,
      coalesce(minIfOrNull(time, type = 'incident.mitigated'), minIfOrNull(time, type = 'incident.resolved')) AS mitigated_at,
      minIfOrNull(time, type = 'incident.resolved') AS resolved_at
    FROM {db:Identifier}.incident_events
    WHERE ${entitiesWithEventsIn('incident_events', ranges)}
    GROUP BY entity_id
    HAVING countIf(type = 'incident.opened') > 0`,
});

/** The catalog's tier-1 time-to-mitigate target, in hours: reports and open-incident details judge against it. */
export const TTM_TARGET_HOURS = 72;
/** The catalog's tier-1 time-to-detect target, in hours. */
export const TTD_TARGET_HOURS = 24;
