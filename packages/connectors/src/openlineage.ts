import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { badRequest, ignored, isObject, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { team, token } from './schema.ts';

/** A cron expression (UTC), checked by the cron library at start-up. */
const schedule = z.string().superRefine((expression, ctx) => {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a cron expression: ${(error as Error).message}` });
  }
});

export const openlineageConfig = z.strictObject({
  token,
  /** `<namespace>/<name>` of an output dataset -> whose it is and when it is due. */
  datasets: z.record(z.string().min(1).max(256), z.strictObject({ team, schedule, sla_minutes: z.number().positive().optional() })),
});
export type OpenlineageConfig = z.infer<typeof openlineageConfig>;

export const verifyOpenlineage = (delivery: RawDelivery, config: OpenlineageConfig) => verifyBearer(delivery, config.token);

/** The latest time of `expression` (UTC) at or before `instant`. */
export function latestScheduledAt(expression: string, instant: string): string {
  // prev() is strictly before its start: 1 ms later includes a run due exactly at `instant`.
  return CronExpressionParser.parse(expression, { currentDate: new Date(Date.parse(instant) + 1), tz: 'UTC' }).prev().toDate().toISOString();
}

const ajv = new Ajv2020({ allErrors: false, strict: true });
addFormats.default(ajv, ['date-time', 'uri', 'uuid']);
const isRunEvent = ajv.compile<RunEvent>(JSON.parse(readFileSync(new URL('../schemas/openlineage-run-event.schema.json', import.meta.url), 'utf8')) as object);

interface RunEvent {
  eventType?: string;
  eventTime: string;
  run: { runId: string };
  job: { namespace: string; name: string };
  outputs?: { namespace: string; name: string }[];
}

/**
 * OpenLineage events from the HTTP transport (Airflow's and Dagster's integrations, the clients).
 * A COMPLETE run is an arrival of each configured dataset it wrote, due at the latest time of the
 * dataset's schedule at or before the run's end; everything else is lineage we do not measure.
 */
export function mapOpenlineage(body: unknown, config: OpenlineageConfig): Mapped {
  // The transport posts DatasetEvents and JobEvents (OpenLineage 2) to the same endpoint: no run in them.
  if (isObject(body) && body.run === undefined && (body.dataset !== undefined || body.job !== undefined)) return ignored('a DatasetEvent or JobEvent carries no run');
  if (!isRunEvent(body)) {
    const [error] = isRunEvent.errors ?? [];
    return badRequest(`not an OpenLineage RunEvent: ${error ? `${error.instancePath || '(root)'} ${error.message ?? ''}` : 'invalid'}`);
  }
  const job = `${body.job.namespace}/${body.job.name}`;
  if (body.eventType !== 'COMPLETE') return ignored(`${body.eventType ?? 'an event without eventType'} of ${job}: only a COMPLETE run delivers its datasets`);
  const written = (body.outputs ?? []).map((output) => `${output.namespace}/${output.name}`);
  const configured = [...new Set(written)].filter((dataset) => config.datasets[dataset] !== undefined);
  if (configured.length === 0) return ignored(`run of ${job} wrote none of the datasets in openlineage.datasets (it wrote ${written.join(', ') || 'nothing'})`);
  const arrived = new Date(Date.parse(body.eventTime)).toISOString();
  return {
    kind: 'events',
    events: configured.map((dataset) => {
      const { team: owner, schedule: expression, sla_minutes } = config.datasets[dataset]!;
      return draftEvent(
        'dataset.arrived',
        { dataset, team: owner, expected_at: latestScheduledAt(expression, arrived), ...(sla_minutes === undefined ? {} : { sla_minutes }) },
        { source: 'openlineage', id: `openlineage:${body.run.runId}:${dataset}`, time: arrived },
      );
    }),
  };
}
