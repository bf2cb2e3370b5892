import { raw, sql, type Sql } from '@kpi/storage';
import { defineSource, entitiesWithEventsIn, LATEST } from '../source.ts';

/**
 * One row per production release: its team and model from the deploy, its facts per field from
 * the latest `release.deployed` or `release.updated` carrying it (SPEC §3; docs, monitoring,
 * offline metric and slices replaced whole), its rollbacks. A fact no event reported stays NULL
 * (or `reports_*` false): KPIs leave such a release out instead of guessing (SPEC §5).
 * (An alias never repeats a column name that another aggregate reads: ClickHouse would resolve
 * the column to the alias.)
 */
export const releases = defineSource({
  name: 'releases',
  entity: 'release',
  tiered: true,
  eventTypes: ['release.deployed', 'release.updated', 'release.rolled_back'],
  planning: { kind: 'entity', table: 'release_events', definingType: 'release.deployed', team: raw("anyIf(team, type = 'release.deployed')") },
  rows: (ranges) => sql`
    SELECT *,
      arrayCount(feature -> feature.critical, features) AS critical_features,
      arrayCount(feature -> feature.critical AND feature.drift_monitored, features) AS monitored_critical_features,
      arrayMap(feature -> feature.name, arrayFilter(feature -> feature.critical AND NOT feature.drift_monitored, features)) AS unmonitored_critical_features
    FROM (
      SELECT
        entity_id,
        argMaxIf(team, ${LATEST}, type = 'release.deployed') AS team,
        argMaxIf(model_id, ${LATEST}, type = 'release.deployed') AS model_id,
        argMaxIf(model_version, ${LATEST}, type = 'release.deployed') AS model_version,
        argMaxIf(environment, ${LATEST}, type = 'release.deployed') AS environment,
        coalesce(argMaxIf(tier, ${LATEST}, tier IS NOT NULL AND type != 'release.rolled_back'), 0) AS tier,
        maxIf(time, type = 'release.deployed') AS deployed_at,
        arraySort(groupUniqArrayIf(time, type = 'release.rolled_back')) AS rollbacks,
        argMaxIf(readiness_first_pass, ${LATEST}, readiness_first_pass IS NOT NULL) AS readiness_first_pass,
        argMaxIf(reproducible, ${LATEST}, reproducible IS NOT NULL) AS reproducible,
        max(docs_reported) AS reports_docs,
        argMaxIf(docs_model_card AND docs_runbook AND docs_readout, ${LATEST}, docs_reported) AS docs_complete,
        CAST(argMaxIf(tuple(docs_model_card, docs_runbook, docs_readout), ${LATEST}, docs_reported), 'Tuple(model_card Bool, runbook Bool, readout Bool)') AS docs,
        max(monitoring_reported) AS reports_monitoring,
        argMaxIf(drift_enabled, ${LATEST}, monitoring_reported) AS drift_enabled,
        argMaxIf(drift_alerting, ${LATEST}, monitoring_reported) AS drift_alerting,
        argMaxIf(features, ${LATEST}, monitoring_reported) AS features,
        max(offline_metric_reported) AS reports_offline_metric,
        CAST(argMaxIf(tuple(offline_metric_value, offline_metric_baseline, offline_metric_higher_is_better), ${LATEST}, offline_metric_reported), 'Tuple(value Float64, baseline Float64, higher_is_better Bool)') AS offline_metric,
        argMaxIf(calibration_ece, ${LATEST}, calibration_ece IS NOT NULL) AS calibration_ece,
        max(slices_reported) AS reports_slices,
        argMaxIf(slices, ${LATEST}, slices_reported) AS slices
      FROM {db:Identifier}.release_events
      WHERE ${entitiesWithEventsIn('release_events', ranges)}
      GROUP BY entity_id
      HAVING countIf(type = 'release.deployed') > 0 AND environment = 'production'
    )`,
  // A model's live release at an instant: its latest production release deployed before that
  // instant and not rolled back before it (a rolled-back release hands over to the previous one).
  live: {
    at: (at: Sql) => sql`deployed_at < ${at} AND NOT arrayExists(rollback -> rollback < ${at}, rollbacks)`,
    per: 'model_id',
    latestFirst: 'deployed_at DESC, entity_id DESC',
  },
});

/** A release counts as failed when rolled back at most 7 days (inclusive) after its deploy. */
export const ROLLBACK_WINDOW_DAYS = 7;
/** A slice regresses when worse than its baseline by more than this share of |baseline|. */
export const SLICE_REGRESSION_SHARE = 0.05;
