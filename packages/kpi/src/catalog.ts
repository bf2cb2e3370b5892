import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@kpi/config';
import { CustomEventTypes, isCustomType } from '@kpi/events';
import { customKpisUnparsable } from '@kpi/metrics';
import { kpiDefinitions, type Storage } from '@kpi/storage';
import { customKpi, DefinitionError, parseCustomKpi, type CustomKpiDefinition } from './custom/definition.ts';
import type { KpiDefinition } from './definition.ts';
import { experimentKpis } from './experiments/kpis.ts';
import { incidentKpis } from './incidents/kpis.ts';
import { driftKpis, releaseKpis } from './releases/kpis.ts';
import { signalKpis } from './signals/kpis.ts';
import { withYearlyTargets } from './targets.ts';

/**
 * Every module that defines built-in KPIs. A KPI is registered by being in one of these lists;
 * test/catalog-registration.test.ts fails when a `kpis.ts` module under src/ is not here.
 */
export const KPI_MODULES = { releaseKpis, experimentKpis, incidentKpis, driftKpis, signalKpis } as const;

/** The order the SPEC lists the blueprints' KPIs in: the catalog's, the dashboard's and the reports'. */
const SPEC_ORDER = [
  'releases_delivered', 'change_failure_rate', 'readiness_first_pass_rate', 'documentation_completeness', 'reproducibility_rate',
  'experiment_throughput', 'experiment_actionable_rate', 'time_to_experiment_days', 'shipped_lift', 'guardrail_breaches',
  'srm_failure_rate', 'offline_online_alignment', 'sev0_incidents', 'model_incidents', 'data_quality_incidents',
  'time_to_detect_hours', 'time_to_mitigate_hours', 'drift_feature_coverage', 'drift_model_coverage', 'alert_precision',
  'data_freshness_sla', 'offline_win_rate', 'calibration_ece', 'slice_regressions', 'inference_latency_p95_ms',
  'inference_cost_per_1k', 'training_cost_per_run', 'stakeholder_satisfaction', 'fairness_gap', 'segment_parity_rate',
  'inference_latency_p99_ms', 'tech_debt_closed', 'cross_team_reuse', 'mentorship_contributions', 'data_validation_pass_rate',
] as const;
/** The id of a built-in KPI: code that speaks of one KPI (a report's incident figures) names it with this type, checked against the catalog. */
export type BuiltInKpiId = (typeof SPEC_ORDER)[number];

/**
 * The built-in catalog: every KPI of the modules, in SPEC order. A KPI defined but missing from
 * the order (or an id in the order that no module defines, or defined twice) stops the import,
 * so no KPI can be dropped silently.
 */
export function orderedCatalog(defined: readonly KpiDefinition[], order: readonly string[]): KpiDefinition[] {
  const byId = new Map<string, KpiDefinition>();
  for (const kpi of defined) {
    if (byId.has(kpi.id)) throw new Error(`KPI ${kpi.id} is defined twice`);
    byId.set(kpi.id, kpi);
  }
  const unordered = [...byId.keys()].filter((id) => !order.includes(id));
  if (unordered.length > 0) throw new Error(`KPIs missing from the catalog order (packages/kpi/src/catalog.ts): ${unordered.join(', ')}`);
  const undefinedIds = order.filter((id) => !byId.has(id));
  if (undefinedIds.length > 0) throw new Error(`the catalog order names KPIs no module defines: ${undefinedIds.join(', ')}`);
  return order.map((id) => byId.get(id)!);
}

export const CATALOG: readonly KpiDefinition[] = orderedCatalog(Object.values(KPI_MODULES).flat(), SPEC_ORDER).map((kpi) => ({ ...kpi, targets: withYearlyTargets(kpi.targets) }));
const byId = new Map<string, KpiDefinition>(CATALOG.map((kpi) => [kpi.id, kpi]));

/** A built-in KPI's definition. */
export const builtInKpi = (id: BuiltInKpiId): KpiDefinition => byId.get(id)!;

/** Where the catalog reports what it leaves out (the runtime's logger). */
export interface CatalogLog {
  warn(object: object, message: string): void;
}

/** The catalogs loaded in this process (one per runtime; the one-machine stack runs one). */
const loaded = new Set<Catalog>();

/**
 * A KPI by id: a built-in one, or a custom one of a catalog loaded in this process. For code that
 * validates KPI ids where no catalog is at hand (alert rules in a file); prefer `Catalog.get`.
 */
export function kpiById(id: string): KpiDefinition | undefined {
  if (byId.has(id)) return byId.get(id);
  for (const catalog of loaded) {
    const kpi = catalog.get(id);
    if (kpi) return kpi;
  }
  return undefined;
}

/**
 * The catalog a process serves: the built-in KPIs, then the organisation's custom ones (SPEC
 * §5b) from the definitions file (read at start-up) and the admin API (stored in ClickHouse,
 * which win by id, a delete hiding a file definition too). Every process keeps its copy current
 * with `refresh`, which reloads only when a definition changed anywhere.
 */
export class Catalog {
  private custom = new Map<string, { definition: CustomKpiDefinition; kpi: KpiDefinition }>();
  private all: readonly KpiDefinition[] = CATALOG;
  private version = '';
  /** The custom event types the custom KPIs read, with their data schemas (validation on the hot path). */
  eventTypes = CustomEventTypes.none;
  /** Event types whose data recompute planning reads (custom KPIs with a team or instant in the data). */
  plannedFromData: ReadonlySet<string> = new Set();

  /** Stored custom KPIs left out because they no longer parse (the rules changed), with the reason. */
  unparsable: readonly { id: string; reason: string }[] = [];

  private constructor(
    private readonly storage: Storage,
    private readonly fromFile: readonly CustomKpiDefinition[],
    private readonly log: CatalogLog | undefined,
  ) {}

  /** The catalog of a deployment: its definitions file (KPI_DEFINITIONS_FILE), then the API's. */
  static async fromConfig(storage: Storage, config: { definitionsFile: string | undefined }, log?: CatalogLog): Promise<Catalog> {
    return Catalog.load(storage, config.definitionsFile ? readDefinitionsFile(config.definitionsFile) : [], log);
  }

  static async load(storage: Storage, fromFile: readonly CustomKpiDefinition[] = [], log?: CatalogLog): Promise<Catalog> {
    const catalog = new Catalog(storage, fromFile, log);
    catalog.apply(fromFile, []);
    await catalog.refresh();
    loaded.add(catalog);
    return catalog;
  }

  /** This process stops serving the catalog (its runtime closes). */
  close(): void {
    loaded.delete(this);
  }

  list(): readonly KpiDefinition[] {
    return this.all;
  }

  get(id: string): KpiDefinition | undefined {
    return byId.get(id) ?? this.custom.get(id)?.kpi;
  }

  /** The definition of a custom KPI, as it was given. */
  definitionOf(id: string): CustomKpiDefinition | undefined {
    return this.custom.get(id)?.definition;
  }

  /** Reloads the stored definitions if any changed since the last load; true when the catalog changed. */
  async refresh(): Promise<boolean> {
    const version = await kpiDefinitions.version(this.storage);
    if (version === this.version) return false;
    const stored = await kpiDefinitions.list(this.storage);
    this.version = version;
    // A stored definition that no longer parses (the rules changed) is left out, not fatal: logged
    // with its reason and counted (kpi_custom_kpis_unparsable), so it does not vanish unnoticed.
    const unparsable: { id: string; reason: string }[] = [];
    const parsed = stored.flatMap((row): { id: string; definition: CustomKpiDefinition | undefined }[] => {
      if (row.deleted) return [{ id: row.id, definition: undefined }];
      try {
        return [{ id: row.id, definition: parseCustomKpi(row.definition) }];
      } catch (error) {
        unparsable.push({ id: row.id, reason: (error as Error).message });
        return [];
      }
    });
    for (const { id, reason } of unparsable) this.log?.warn({ kpi: id, reason }, 'stored custom KPI no longer parses; left out of the catalog');
    this.unparsable = unparsable;
    customKpisUnparsable.set(unparsable.length);
    this.apply(this.fromFile, parsed);
    return true;
  }

  /**
   * Adds or replaces a custom KPI through the API. Refused (DefinitionError naming the problem)
   * when it does not parse, takes a built-in id, or gives a custom event type another schema
   * than the KPIs already reading it.
   */
  async put(input: unknown): Promise<{ definition: CustomKpiDefinition; created: boolean }> {
    const definition = parseCustomKpi(input);
    this.check(definition);
    const created = !this.custom.has(definition.id);
    await kpiDefinitions.save(this.storage, definition.id, definition);
    await this.refresh();
    return { definition, created };
  }

  /** Removes a custom KPI (file-defined ones included); false when there is none of that id. */
  async remove(id: string): Promise<boolean> {
    if (!this.custom.has(id)) return false;
    await kpiDefinitions.save(this.storage, id, null, true);
    await this.refresh();
    return true;
  }

  private check(definition: CustomKpiDefinition): void {
    if (byId.has(definition.id)) throw new DefinitionError(`id: ${definition.id} is a built-in KPI`);
    if (!isCustomType(definition.source)) return;
    for (const { definition: other } of this.custom.values()) {
      if (other.id !== definition.id && other.source === definition.source && JSON.stringify(other.schema) !== JSON.stringify(definition.schema)) {
        throw new DefinitionError(`schema: ${definition.source} already has another schema, from the custom KPI ${other.id}; KPIs reading one event type share its schema`);
      }
    }
  }

  private apply(fromFile: readonly CustomKpiDefinition[], stored: { id: string; definition: CustomKpiDefinition | undefined }[]): void {
    const definitions = new Map(fromFile.map((definition) => [definition.id, definition]));
    for (const { id, definition } of stored) {
      if (definition) definitions.set(id, definition);
      else definitions.delete(id);
    }
    this.custom = new Map([...definitions].sort(([a], [b]) => a.localeCompare(b)).map(([id, definition]) => [id, { definition, kpi: customKpi(definition) }]));
    this.all = [...CATALOG, ...[...this.custom.values()].map((entry) => entry.kpi)];
    const schemas = new Map<string, object>();
    for (const { definition } of this.custom.values()) if (definition.schema) schemas.set(definition.source, definition.schema);
    this.eventTypes = CustomEventTypes.compile(schemas);
    this.plannedFromData = new Set(this.all.flatMap((kpi) => (kpi.source.planning.kind === 'sample' && kpi.source.planning.readsData ? kpi.source.eventTypes : [])));
  }
}

/** The custom KPI definitions file (SPEC §5b); a bad one is a ConfigError naming the variable, the entry and the field. */
function readDefinitionsFile(path: string): CustomKpiDefinition[] {
  try {
    return parseDefinitionsFile(parseYaml(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new ConfigError(`KPI_DEFINITIONS_FILE=${path}: ${(error as Error).message}`);
  }
}

/** Parses the definitions of a file (a list); the error names the entry and the field. */
export function parseDefinitionsFile(parsed: unknown): CustomKpiDefinition[] {
  if (!Array.isArray(parsed)) throw new DefinitionError('expected a list of KPI definitions');
  const definitions = parsed.map((entry, index) => {
    try {
      return parseCustomKpi(entry);
    } catch (error) {
      throw new DefinitionError(`[${index}] ${(error as Error).message}`);
    }
  });
  const seen = new Set<string>();
  for (const definition of definitions) {
    if (byId.has(definition.id)) throw new DefinitionError(`${definition.id}: id: a built-in KPI`);
    if (seen.has(definition.id)) throw new DefinitionError(`${definition.id}: id: defined twice`);
    seen.add(definition.id);
  }
  return definitions;
}
