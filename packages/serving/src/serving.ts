import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { effectiveOverrides, type ScopedValue, type TargetOverride } from '@kpi/kpi';
import { servedValues, servingResyncs, servingUpdates } from '@kpi/metrics';
import { eventQueries, kpiValues, type Storage, type TeamSummary } from '@kpi/storage';
import { ValueReplica, type ServedRow } from './replica.ts';


/** Values per update message: a rebuild's hundred thousand values go out in slices. */
const ROWS_PER_MESSAGE = 2_000;
/** How old the served team list may get before a read refreshes it in the background. */
const TEAMS_MAX_AGE_MS = 5_000;
/**
 * A refresh reads the models of the events ingested since the previous one began, less this much
 * (an insert still running then commits rows stamped before its end); every so often it reads all.
 */
const MODELS_OVERLAP_MS = 60_000;
const MODELS_FULL_READ_MS = 10 * 60_000;
/** The subscriber's name in Redis (CLIENT LIST). */
export const SUBSCRIBER_NAME = 'kpi-served-values';
const RECONNECT_DELAY = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);

const message = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('values'), origin: z.string(), computedAt: z.number(), rows: z.array(z.tuple([z.string(), z.string(), z.string(), z.string(), z.string(), z.number().nullable(), z.number().nullable(), z.number().nullable(), z.number(), z.record(z.string(), z.unknown())])) }),
  z.object({ kind: z.literal('removed'), origin: z.string(), kpi: z.string(), before: z.number() }),
  z.object({ kind: z.literal('targets'), origin: z.string() }),
  z.object({ kind: z.literal('reload'), origin: z.string(), kpis: z.array(z.string()).optional() }),
]);
type Message = z.infer<typeof message>;

export interface ServingOptions {
  /** Where values, targets and teams are loaded from (the process's readers' lane). */
  storage: Storage;
  /** Commands (PUBLISH); fails fast while Redis is away. */
  redis: Redis;
  redisUrl: string;
  prefix: string;
  /** Target overrides of KPI_TARGETS_FILE; the API's stored ones win. */
  fileOverrides: TargetOverride[];
  /** Another process deleted a KPI's values (a custom KPI deleted): this process's catalog follows at once. */
  onKpiRemoved?(kpi: string): void;
  log: Logger;
}

/**
 * What reads are answered from: KPI values, the targets in force and the teams, kept ready in
 * every process that serves or evaluates them, so that a read is a lookup and never waits for a
 * recompute, an insert or ClickHouse at all. The jobs that compute values hand them over here as
 * they store them (`publish`); other processes get them through a Redis channel. A process loads
 * everything from ClickHouse when it starts and again whenever it may have missed an update (its
 * channel connection was lost), so no process has state another could not have: ClickHouse stays
 * the record, and the copy converges to it under "latest computation wins".
 */
export class Serving {
  private replica = new ValueReplica();
  /** The copy a reload is filling, which receives every update meanwhile too. */
  private loading: ValueReplica | undefined;
  private readonly origin = randomUUID();
  private readonly ownPrefix = `{"origin":${JSON.stringify(this.origin)}`;
  private readonly channel: string;
  private subscriber: Redis | undefined;
  private started: Promise<void> | undefined;
  private reloading: Promise<void> | undefined;
  private targets: TargetOverride[] = [];
  /** The teams as last read, and whether values of a team it lacks have been served since. */
  private teamList: { at: number; fullReadAt: number; teams: TeamSummary[]; lacksServedTeam?: boolean } | undefined;
  private teamsRefresh: Promise<TeamSummary[]> | undefined;
  private closed = false;
  /** How many times the values were loaded from ClickHouse (at start, then after each lost channel). */
  reloads = 0;

  constructor(private readonly options: ServingOptions) {
    this.channel = `${options.prefix}:served-values`;
  }

  /** The served KPI values. */
  get values(): ValueReplica {
    return this.replica;
  }

  /** Subscribed to updates and loaded from ClickHouse (once; later calls wait for the same). */
  ready(): Promise<void> {
    this.started ??= this.start().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  /** The targets in force: overrides through the API, then those of the targets file. */
  overrides(): TargetOverride[] {
    return this.targets;
  }

  /** The targets in force, read now: for a process that serves nothing, such as the rebuild. */
  async loadOverrides(): Promise<TargetOverride[]> {
    await this.loadTargets();
    return this.targets;
  }

  /** Values a job stored in ClickHouse: served here at once, and by every other process as the channel delivers them. */
  async publish(values: readonly ScopedValue[], computedAt: Date): Promise<void> {
    const rows = values.map(servedRow);
    this.applyValues(rows, computedAt.getTime(), 'local');
    for (let index = 0; index < rows.length; index += ROWS_PER_MESSAGE) {
      const slice = rows.slice(index, index + ROWS_PER_MESSAGE).map((row) => [row.kpi, row.granularity, row.start, row.team, row.tier, row.value, row.numerator, row.denominator, row.sample_size, row.details] as const);
      await this.send({ kind: 'values', origin: this.origin, computedAt: computedAt.getTime(), rows: slice as unknown as Extract<Message, { kind: 'values' }>['rows'] });
    }
  }

  /**
   * Values were written to ClickHouse in bulk (a rebuild, a custom KPI's whole history): every
   * process loads them from there (only those of `kpis`, when given) rather than receive them all.
   */
  async reloadEverywhere(kpis?: readonly string[]): Promise<void> {
    await this.send({ kind: 'reload', origin: this.origin, ...(kpis ? { kpis: [...kpis] } : {}) });
    await (kpis ? this.reloadKpis(kpis) : this.reload());
  }

  /** A KPI's values computed before `before` were deleted from ClickHouse (all of them without it). */
  async removed(kpi: string, before = new Date()): Promise<void> {
    this.removeValues(kpi, before.getTime());
    await this.send({ kind: 'removed', origin: this.origin, kpi, before: before.getTime() });
  }

  /**
   * Every value was computed again and stored (a full rebuild): every process loads them from
   * ClickHouse once, instead of the rebuild sending hundreds of thousands of values through the
   * channel one slice at a time. Until then each serves what it had.
   */
  async rebuilt(): Promise<void> {
    if (this.started) await this.reload();
    await this.send({ kind: 'reload', origin: this.origin });
  }

  /** Target overrides changed in ClickHouse. */
  async targetsChanged(): Promise<void> {
    await this.loadTargets();
    await this.send({ kind: 'targets', origin: this.origin });
  }

  /** Teams with their models, as last read; refreshed in the background once older than a few seconds. */
  async teams(): Promise<TeamSummary[]> {
    if (!this.teamList) return this.refreshTeams();
    // A team's first values are served: answer with it (its values would otherwise show under no team).
    if (this.teamList.lacksServedTeam) {
      const known = this.teamList.teams;
      return this.refreshTeams().catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'could not refresh the team list');
        return known;
      });
    }
    if (Date.now() - this.teamList.at > TEAMS_MAX_AGE_MS) void this.refreshTeams().catch((error: unknown) => this.options.log.warn({ err: error }, 'could not refresh the team list'));
    return this.teamList.teams;
  }

  async knownTeams(): Promise<string[]> {
    return (await this.teams()).map((summary) => summary.team);
  }

  close(): void {
    this.closed = true;
    this.subscriber?.disconnect();
  }

  private async start(): Promise<void> {
    const subscriber = new Redis(this.options.redisUrl, { connectionName: SUBSCRIBER_NAME, connectTimeout: 2_000, retryStrategy: RECONNECT_DELAY, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', (error) => this.options.log.debug({ err: error }, 'served values channel: redis connection error'));
    subscriber.on('message', (_channel: string, text: string) => this.receive(text));
    let connectedBefore = false;
    subscriber.on('ready', () => {
      // Updates sent while the connection was down are lost: load everything again.
      if (connectedBefore && !this.closed) void this.reload().catch((error: unknown) => this.options.log.warn({ err: error }, 'could not reload the served KPI values'));
      connectedBefore = true;
    });
    // Subscribed before loading, so nothing computed meanwhile is missed (applying both is safe in any order).
    await subscriber.subscribe(this.channel);
    await this.reload();
  }

  /**
   * Loads values and targets from ClickHouse into a new copy, which replaces the served one once
   * complete (updates that arrive meanwhile go to both): at start, after the update channel was
   * lost, or after values changed behind the pipeline's back.
   */
  reload(): Promise<void> {
    this.reloading ??= (async () => {
      servingResyncs.inc();
      this.reloads++;
      const fresh = new ValueReplica();
      this.loading = fresh;
      try {
        await this.loadTargets();
        for (const kpi of await kpiValues.kpis(this.options.storage)) {
          for (const row of await kpiValues.allOf(this.options.storage, kpi)) fresh.apply([row], row.computed_at);
        }
        // Answers derived from the old copy must not be taken for answers from this one.
        fresh.version += this.replica.version + 1;
        this.replica = fresh;
      } finally {
        this.loading = undefined;
      }
      this.count();
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Loads some KPIs' values from ClickHouse again, into the served copy (see ValueReplica.replace). */
  private async reloadKpis(kpis: readonly string[]): Promise<void> {
    for (const kpi of kpis) {
      const loadedAt = Date.now();
      const rows = await kpiValues.allOf(this.options.storage, kpi);
      this.loading?.replace(kpi, rows, loadedAt);
      this.replica.replace(kpi, rows, loadedAt);
    }
    this.count();
  }

  private async loadTargets() {
    this.targets = await effectiveOverrides(this.options.storage, this.options.fileOverrides);
    this.replica.changed();
  }

  private refreshTeams(): Promise<TeamSummary[]> {
    const previous = this.teamList;
    const startedAt = Date.now();
    const full = !previous || startedAt - previous.fullReadAt > MODELS_FULL_READ_MS;
    this.teamsRefresh ??= eventQueries
      .teams(this.options.storage, full ? undefined : new Date(previous.at - MODELS_OVERLAP_MS))
      .then((teams) => {
        if (!full) {
          const seen = new Map(previous.teams.map((summary) => [summary.team, summary.models]));
          for (const summary of teams) summary.models = [...new Set([...(seen.get(summary.team) ?? []), ...summary.models])].sort();
        }
        this.teamList = { at: startedAt, fullReadAt: full ? startedAt : previous.fullReadAt, teams };
        return teams;
      })
      .finally(() => (this.teamsRefresh = undefined));
    return this.teamsRefresh;
  }

  private async send(update: Message): Promise<void> {
    // The origin first, so that receive() can skip this process's own updates by their prefix.
    const { origin, ...rest } = update;
    await this.options.redis.publish(this.channel, JSON.stringify({ origin, ...rest }));
  }

  private receive(text: string): void {
    // This process's own updates are applied already: skip them without parsing (messages start with their origin).
    if (text.startsWith(this.ownPrefix)) return;
    let update: Message;
    try {
      update = message.parse(JSON.parse(text));
    } catch (error) {
      this.options.log.warn({ err: error }, 'served values channel: a message that does not parse; ignored');
      return;
    }
    if (update.origin === this.origin) return;
    switch (update.kind) {
      case 'values':
        this.applyValues(
          update.rows.map(([kpi, granularity, start, team, tier, value, numerator, denominator, sample_size, details]) => ({ kpi, granularity, start, team, tier, value, numerator, denominator, sample_size, details })),
          update.computedAt,
          'channel',
        );
        break;
      case 'removed':
        this.removeValues(update.kpi, update.before);
        this.options.onKpiRemoved?.(update.kpi);
        break;
      case 'targets':
        void this.loadTargets().catch((error: unknown) => this.options.log.warn({ err: error }, 'could not reload the target overrides'));
        break;
      case 'reload':
        void (update.kpis ? this.reloadKpis(update.kpis) : this.reload()).catch((error: unknown) => this.options.log.warn({ err: error }, 'could not reload the served KPI values'));
        break;
    }
  }

  private applyValues(rows: ServedRow[], computedAt: number, origin: 'local' | 'channel') {
    this.loading?.apply(rows, computedAt);
    servingUpdates.inc({ origin }, this.replica.apply(rows, computedAt));
    this.count();
    // A team the list does not have yet: the next reader waits for the list read again, so
    // /v1/teams, /v1/metrics and the team scopes have it as soon as its values are served.
    if (this.teamList && rows.some((row) => row.team !== '*' && !this.teamList!.teams.some((summary) => summary.team === row.team))) this.teamList.lacksServedTeam = true;
  }

  private removeValues(kpi: string, before: number) {
    this.loading?.remove(kpi, before);
    this.replica.remove(kpi, before);
    this.count();
  }

  private count() {
    servedValues.set(this.replica.size);
  }
}

function servedRow(value: ScopedValue): ServedRow {
  const { evaluation } = value;
  return {
    kpi: value.kpi,
    granularity: value.granularity,
    start: kpiValues.startKey(value.period.start),
    team: value.team,
    tier: value.tier,
    value: evaluation.value,
    numerator: evaluation.numerator,
    denominator: evaluation.denominator,
    sample_size: evaluation.sample_size,
    details: evaluation.details,
  };
}
