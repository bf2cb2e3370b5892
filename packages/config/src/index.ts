export { parseDuration, formatDuration, DURATION_HINT } from './duration.ts';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TEAM_PATTERN } from '@kpi/events';
import { API_ROLES, type ApiRole } from '@kpi/schemas';

/**
 * Every setting of every role, parsed once at start-up. A wrong value stops the process with
 * one line naming the variable and what it expects (see ConfigError).
 */
const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const brokerList = z
  .string()
  .transform((value) => value.split(',').map((broker) => broker.trim()).filter(Boolean))
  .refine((brokers) => brokers.length > 0 && brokers.every((broker) => hostPort.test(broker) && Number(broker.split(':')[1]) <= 65535), {
    message: 'expected a comma-separated list of host:port, e.g. kafka-1:9092,kafka-2:9092',
  });
const port = z.coerce.number({ message: 'expected a port number' }).int('expected an integer port').min(1, 'expected a port in 1-65535').max(65535, 'expected a port in 1-65535');
const positiveInt = z.coerce.number({ message: 'expected a number' }).int('expected an integer').positive('expected a positive integer');
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'], { message: 'expected 1/0, true/false or yes/no' })
  .transform((value) => ['1', 'true', 'yes'].includes(value));
const topic = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name');
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL, e.g. http://clickhouse:8123' });
const redisUrl = z.url({ protocol: /^rediss?$/, message: 'expected a redis:// or rediss:// URL' });
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'expected an identifier (letters, digits, underscore)');

export const ROLES = ['ingest', 'worker', 'api'] as const;
export type Role = (typeof ROLES)[number];
export { API_ROLES, type ApiRole } from '@kpi/schemas';

/** What a principal may do: its role, and the teams it is limited to (undefined: every team and the organisation). */
export interface Access {
  role: ApiRole;
  teams: string[] | undefined;
}

const isRole = (value: string | undefined): value is ApiRole => API_ROLES.includes(value as ApiRole);
/** A team a scope may name: a team name, not `all` (the organisation is no team's scope). */
const isTeam = (value: string): value is string => TEAM_PATTERN.test(value) && value !== 'all';

/**
 * `token:role` or `token:role:team1|team2`, comma-separated. A token may itself hold colons
 * (`x:y:admin` is the token `x:y`): the role is the last part, or the one before a team list.
 */
const apiTokens = z.string().transform((value, ctx) => {
  const tokens = new Map<string, Access>();
  for (const entry of value.split(',').map((item) => item.trim()).filter(Boolean)) {
    const parts = entry.split(':');
    const last = parts.at(-1)!;
    const scoped = !isRole(last) && isRole(parts.at(-2)) && last.split('|').every(isTeam);
    const role = scoped ? parts.at(-2) : last;
    const token = parts.slice(0, scoped ? -2 : -1).join(':');
    if (!token || !isRole(role)) {
      ctx.addIssue({ code: 'custom', message: 'expected comma-separated token:role or token:role:team1|team2, role one of read, ingest, admin' });
      return z.NEVER;
    }
    tokens.set(token, { role, teams: scoped ? last.split('|') : undefined });
  }
  return tokens;
});

/** In OIDC_TEAM_MAP: the group reads every team and the organisation. */
export const EVERY_TEAM = '*';

/** `name=value` pairs, comma-separated, each value checked by `valid`; `*` as a name matches any group. */
const claimMap = <T extends string>(valueHint: string, valid: (value: string) => value is T) =>
  z.string().transform((text, ctx) => {
    const map = new Map<string, T>();
    for (const entry of text.split(',').map((item) => item.trim()).filter(Boolean)) {
      const separator = entry.lastIndexOf('=');
      const group = entry.slice(0, separator).trim();
      const mapped = entry.slice(separator + 1).trim();
      if (separator <= 0 || !group || !valid(mapped)) {
        ctx.addIssue({ code: 'custom', message: `expected comma-separated group=${valueHint} pairs (* = any group), got ${JSON.stringify(entry)}` });
        return z.NEVER;
      }
      map.set(group, mapped);
    }
    return map;
  });

/** Loopback hosts, where an http:// issuer is accepted (local use and tests). */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const publicUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL, e.g. https://kpi.example.com' }).transform((value) => value.replace(/\/+$/, ''));
const issuerUrl = z
  .url({ protocol: /^https?$/, message: 'expected the https URL of the OpenID provider, e.g. https://login.example.com/realms/acme', abort: true })
  .refine((value) => new URL(value).protocol === 'https:' || LOOPBACK.test(new URL(value).hostname), 'expected https (http:// only on a loopback address: localhost, 127.0.0.1, [::1])');

const envSchema = z.object({
  KAFKA_BROKERS: brokerList.optional(),
  KAFKA_LOCAL_PORT: port.default(9092),
  KAFKA_CLIENT_ID: z.string().min(1).default('kpi-pipeline'),
  KAFKA_GROUP_ID: z.string().min(1).default('kpi-ingest'),
  KPI_TOPIC_RELEASES: topic.default('ml.releases'),
  KPI_TOPIC_INCIDENTS: topic.default('ml.incidents'),
  KPI_TOPIC_EXPERIMENTS: topic.default('ml.experiments'),
  KPI_TOPIC_SIGNALS: topic.default('ml.signals'),
  KPI_TOPIC_DLQ: topic.default('ml.dlq'),
  KPI_TOPIC_PARTITIONS: positiveInt.default(3),
  CLICKHOUSE_URL: httpUrl.optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: identifier.default('kpi'),
  CLICKHOUSE_CLUSTER: identifier.optional(),
  CLICKHOUSE_SLOW_STATEMENT_MS: positiveInt.default(2_000),
  REDIS_URL: redisUrl.optional(),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(1_000),
  KPI_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'expected letters, digits, : _ -').default('kpi'),
  DATA_DIR: z.string().min(1).default('./.data'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.or(z.literal('0').transform(() => 0)).default(8080),
  KPI_API_TOKENS: apiTokens.optional(),
  PUBLIC_URL: publicUrl.optional(),
  OIDC_ISSUER: issuerUrl.optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  OIDC_ROLE_MAP: claimMap('role (read, ingest, admin)', isRole).default(new Map<string, ApiRole>([['*', 'read']])),
  OIDC_TEAM_MAP: claimMap('team (or * for every team)', (value): value is string => value === EVERY_TEAM || isTeam(value)).default(new Map()),
  OIDC_JWKS_MIN_INTERVAL_MS: positiveInt.default(30_000),
  KPI_ROLES: z
    .string()
    .transform((value) => value.split(',').map((role) => role.trim()))
    .pipe(z.array(z.enum(ROLES, { message: 'expected a comma-separated subset of ingest, worker, api' })).min(1))
    .default([...ROLES]),
  KPI_DEMO: bool.default(true),
  INGEST_BATCH_SIZE: positiveInt.default(5000),
  INGEST_BATCH_MAX_WAIT_MS: positiveInt.default(250),
  INGEST_MAX_MESSAGE_BYTES: positiveInt.default(1_048_576),
  API_MAX_BODY_BYTES: positiveInt.default(5_242_880),
  API_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  API_CHECK_RESPONSES: bool.default(false),
  WORKER_CONCURRENCY: positiveInt.default(4),
  KPI_TARGETS_FILE: z.string().min(1).optional(),
  KPI_CONNECTORS_FILE: z.string().min(1).optional(),
  KPI_DEFINITIONS_FILE: z.string().min(1).optional(),
  REPORT_DELAY_HOURS: z.coerce.number({ message: 'expected a number of hours' }).min(0, 'expected 0 or more hours').max(24 * 92, 'expected at most 2208 hours (a quarter)').default(24),
  REPORT_CHROMIUM: z.string().min(1).default('/usr/bin/chromium'),
  ALERT_RULES_FILE: z.string().min(1).optional(),
  ALERT_DEFAULT_RULES: bool.default(true),
  ALERT_EVALUATION_INTERVAL_MS: positiveInt.default(60_000),
  ALERT_EXTERNAL_URL: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL, e.g. https://kpi.example.com' }).optional(),
  ALERT_NOTIFY_ATTEMPTS: positiveInt.default(15),
  ALERT_NOTIFY_BACKOFF_MS: positiveInt.default(1_000),
  ALERT_NOTIFY_TIMEOUT_MS: positiveInt.default(10_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(20_000),
  LOCAL_RESTART_MAX: positiveInt.default(5),
  LOCAL_RESTART_BACKOFF_MS: positiveInt.default(500),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Variables that mean something only with OIDC_ISSUER: set without it, start-up stops naming them. */
const OIDC_ONLY = ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_AUDIENCE'] as const;

const checkedSchema = envSchema.superRefine((env, ctx) => {
  if (env.OIDC_ISSUER && !env.OIDC_CLIENT_ID) ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_ID'], message: 'required with OIDC_ISSUER (the client registered at the provider)' });
  for (const name of OIDC_ONLY) if (!env.OIDC_ISSUER && env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'needs OIDC_ISSUER (the OpenID provider) too' });
});

export type Env = z.infer<typeof envSchema>;

/**
 * A deployment file named by a variable (KPI_TARGETS_FILE, ALERT_RULES_FILE): read and decoded
 * (YAML, or JSON) once, at start-up, into the parsed configuration. The package that owns its
 * content validates the document (packages/kpi the targets, packages/alerts the rules); no role
 * reads the file again, so every role of a deployment works from the same content.
 */
export interface ConfigFile {
  variable: string;
  path: string;
  document: unknown;
}

export interface Config {
  kafka: {
    /** undefined: the one-machine supervisor starts a local broker on `localPort`. */
    brokers: string[] | undefined;
    localPort: number;
    clientId: string;
    groupId: string;
    partitions: number;
    topics: { releases: string; incidents: string; experiments: string; signals: string; dlq: string };
  };
  /** `slowStatementMs`: an embedded statement running longer is logged (warn) with its text. */
  clickhouse: { url: string | undefined; user: string; password: string; database: string; cluster: string | undefined; slowStatementMs: number };
  /** `commandTimeoutMs`: how long a request-path or ingestion command waits for Redis before it fails. */
  redis: { url: string | undefined; commandTimeoutMs: number };
  queuePrefix: string;
  dataDir: string;
  http: { host: string; port: number; maxBodyBytes: number; rateLimitPerMinute: number; /** Every answer checked against its contract schema (tests). */ checkResponses: boolean };
  /** Static bearer tokens (KPI_API_TOKENS) and what each may do. */
  apiTokens: Map<string, Access> | undefined;
  /** The dashboard's URL as browsers reach it: the sign-in redirect URL is below it; https makes the session cookie Secure. */
  publicUrl: string;
  /** Sign-in with the organisation's OpenID provider (SPEC 10); undefined without OIDC_ISSUER. */
  oidc: OidcConfig | undefined;
  roles: Role[];
  demo: boolean;
  ingest: { batchSize: number; batchMaxWaitMs: number; maxMessageBytes: number };
  worker: { concurrency: number };
  /** Per-team target overrides (KPI_TARGETS_FILE). */
  targetsFile: ConfigFile | undefined;
  /** YAML of the inbound webhook connectors (packages/connectors), read once at start-up. */
  connectorsFile: string | undefined;
  /** Custom KPI definitions (YAML or JSON list, SPEC §5b), read at start-up. */
  definitionsFile: string | undefined;
  /** Quarterly reports: requested for the closed quarter `delayHours` after it closes; PDFs printed with `chromium`. */
  reports: { delayHours: number; chromium: string };
  alerts: {
    /** Alert rules and default receivers (ALERT_RULES_FILE). */
    rulesFile: ConfigFile | undefined;
    defaultRules: boolean;
    evaluationIntervalMs: number;
    /** Base URL of the API and dashboard in notification links. */
    externalUrl: string;
    notify: { attempts: number; backoffMs: number; timeoutMs: number };
  };
  /** SIGTERM/SIGINT: stop consuming, drain and close within `timeoutMs`, then exit anyway. */
  shutdown: { timeoutMs: number };
  /**
   * The start command's local Kafka broker and Redis: restarted after an unexpected exit, the first
   * time after `backoffMs`, doubling; more than `maxRestarts` restarts within 10 minutes: give up.
   */
  localRestarts: { maxRestarts: number; backoffMs: number };
  logLevel: Env['LOG_LEVEL'];
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE alone). */
  clientSecret: string | undefined;
  /** The `aud` a bearer access token must carry (OIDC_AUDIENCE, default the client id). */
  audience: string;
  /** The claim (an array of strings, or one string) whose values the maps read. */
  groupsClaim: string;
  /** Group -> role; `*` applies to any principal; the highest role a group gives wins. */
  roleMap: Map<string, ApiRole>;
  /** Group -> team (or EVERY_TEAM); empty: everyone reads every team; else a principal reads the teams its groups map to, none without any. */
  teamMap: Map<string, string>;
  /** The least time between two fetches of the provider's keys on an unknown `kid`. */
  jwksMinIntervalMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError whose message names each wrong variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as in most deployment tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = checkedSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0])}=${JSON.stringify(present[String(issue.path[0])] ?? '')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT || 8080}`;
  return {
    kafka: {
      brokers: e.KAFKA_BROKERS,
      localPort: e.KAFKA_LOCAL_PORT,
      clientId: e.KAFKA_CLIENT_ID,
      groupId: e.KAFKA_GROUP_ID,
      partitions: e.KPI_TOPIC_PARTITIONS,
      topics: {
        releases: e.KPI_TOPIC_RELEASES,
        incidents: e.KPI_TOPIC_INCIDENTS,
        experiments: e.KPI_TOPIC_EXPERIMENTS,
        signals: e.KPI_TOPIC_SIGNALS,
        dlq: e.KPI_TOPIC_DLQ,
      },
    },
    clickhouse: { url: e.CLICKHOUSE_URL, user: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD, database: e.CLICKHOUSE_DATABASE, cluster: e.CLICKHOUSE_CLUSTER, slowStatementMs: e.CLICKHOUSE_SLOW_STATEMENT_MS },
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    queuePrefix: e.KPI_QUEUE_PREFIX,
    dataDir: e.DATA_DIR,
    http: { host: e.HOST, port: e.PORT, maxBodyBytes: e.API_MAX_BODY_BYTES, rateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE, checkResponses: e.API_CHECK_RESPONSES },
    apiTokens: e.KPI_API_TOKENS,
    publicUrl,
    oidc: e.OIDC_ISSUER
      ? {
          issuer: e.OIDC_ISSUER,
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET,
          audience: e.OIDC_AUDIENCE ?? e.OIDC_CLIENT_ID!,
          groupsClaim: e.OIDC_GROUPS_CLAIM,
          roleMap: e.OIDC_ROLE_MAP,
          teamMap: e.OIDC_TEAM_MAP,
          jwksMinIntervalMs: e.OIDC_JWKS_MIN_INTERVAL_MS,
        }
      : undefined,
    roles: e.KPI_ROLES,
    demo: e.KPI_DEMO,
    ingest: { batchSize: e.INGEST_BATCH_SIZE, batchMaxWaitMs: e.INGEST_BATCH_MAX_WAIT_MS, maxMessageBytes: e.INGEST_MAX_MESSAGE_BYTES },
    worker: { concurrency: e.WORKER_CONCURRENCY },
    targetsFile: readConfigFile('KPI_TARGETS_FILE', e.KPI_TARGETS_FILE),
    connectorsFile: e.KPI_CONNECTORS_FILE,
    definitionsFile: e.KPI_DEFINITIONS_FILE,
    reports: { delayHours: e.REPORT_DELAY_HOURS, chromium: e.REPORT_CHROMIUM },
    alerts: {
      rulesFile: readConfigFile('ALERT_RULES_FILE', e.ALERT_RULES_FILE),
      defaultRules: e.ALERT_DEFAULT_RULES,
      evaluationIntervalMs: e.ALERT_EVALUATION_INTERVAL_MS,
      externalUrl: (e.ALERT_EXTERNAL_URL ?? publicUrl).replace(/\/+$/, ''),
      notify: { attempts: e.ALERT_NOTIFY_ATTEMPTS, backoffMs: e.ALERT_NOTIFY_BACKOFF_MS, timeoutMs: e.ALERT_NOTIFY_TIMEOUT_MS },
    },
    shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    localRestarts: { maxRestarts: e.LOCAL_RESTART_MAX, backoffMs: e.LOCAL_RESTART_BACKOFF_MS },
    logLevel: e.LOG_LEVEL,
  };
}

/** Reads and decodes a deployment file; a missing or unreadable one stops start-up naming the variable. */
function readConfigFile(variable: string, path: string | undefined): ConfigFile | undefined {
  if (path === undefined) return undefined;
  const problem = (message: string) => new ConfigError(`invalid configuration: ${variable}=${JSON.stringify(path)}: ${message}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw problem((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
  try {
    // An empty file is an empty document: no overrides, no rules.
    return { variable, path, document: parseYaml(text) ?? null };
  } catch (error) {
    throw problem(`not YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}
