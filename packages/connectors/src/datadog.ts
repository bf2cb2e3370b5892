import { z } from 'zod';
import { badRequest, ignored, isObject, rfc3339, str, tagValue, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { team, token } from './schema.ts';

export const datadogConfig = z.strictObject({ token, default_team: team.optional() });
export type DatadogConfig = z.infer<typeof datadogConfig>;

/** The custom header `Authorization: Bearer <token>` of the Datadog webhook. */
export const verifyDatadog = (delivery: RawDelivery, config: DatadogConfig) => verifyBearer(delivery, config.token);

/** The payload to paste in Datadog's Webhooks integration (SPEC §8b; the README shows it too). */
export const DATADOG_PAYLOAD_TEMPLATE = {
  id: '$ID',
  alert_id: '$ALERT_ID',
  cycle_key: '$ALERT_CYCLE_KEY',
  transition: '$ALERT_TRANSITION',
  title: '$EVENT_TITLE',
  date: '$DATE',
  priority: '$ALERT_PRIORITY',
  tags: '$TAGS',
  link: '$LINK',
};

const FIRING = ['Triggered', 'Re-Triggered'];

/**
 * A monitor notification with the payload template above: `Triggered` and `Re-Triggered` are an
 * `alert.fired` awaiting triage, one per monitor alert cycle (a re-trigger of the same cycle is the
 * same alert); recoveries, warnings and no-data notifications carry nothing to triage.
 */
export function mapDatadog(body: unknown, config: DatadogConfig): Mapped {
  if (!isObject(body)) return badRequest('expected the JSON object of the payload template (see the README)');
  const transition = str(body.transition);
  if (!transition) return badRequest('transition is missing: is the payload template ($ALERT_TRANSITION, ...) pasted whole?');
  if (!FIRING.includes(transition)) return ignored(`transition ${JSON.stringify(transition)} is not a firing (${FIRING.join(', ')})`);
  const alertId = str(body.alert_id);
  const cycle = str(body.cycle_key);
  const title = str(body.title);
  // Template variables arrive as strings: $DATE is epoch milliseconds.
  const date = typeof body.date === 'string' && /^\d+$/.test(body.date) ? rfc3339(Number(body.date)) : rfc3339(body.date);
  if (!alertId || !cycle || !title) return badRequest('alert_id, cycle_key and title are required ($ALERT_ID, $ALERT_CYCLE_KEY, $EVENT_TITLE)');
  if (!date) return badRequest(`date ${JSON.stringify(body.date ?? null)} is not epoch milliseconds ($DATE)`);
  const tags = (str(body.tags) ?? '').split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
  const owner = tagValue(tags, 'team') ?? config.default_team;
  if (!owner) return unmappable(`monitor ${alertId} (${title}): no team:<name> tag and no datadog.default_team`);
  const model = tagValue(tags, 'model_id') ?? tagValue(tags, 'model');
  const labels = Object.fromEntries(tags.filter((tag) => tag.includes(':')).map((tag) => [tag.slice(0, tag.indexOf(':')), tag.slice(tag.indexOf(':') + 1)]));
  const priority = str(body.priority);
  const id = `datadog:${alertId}:${cycle}`;
  return {
    kind: 'events',
    events: [draftEvent('alert.fired', { alert_id: id, team: owner, name: title, labels, ...(model ? { model_id: model } : {}), ...(priority ? { severity: priority } : {}) }, { source: 'datadog', id, time: date })],
  };
}
