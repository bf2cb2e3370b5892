import { z } from 'zod';
import { badRequest, ignored, isObject, rfc3339, str, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent, type DraftEvent } from './events.ts';
import { team, token } from './schema.ts';

export const alertmanagerConfig = z.strictObject({ token, default_team: team.optional() });
export type AlertmanagerConfig = z.infer<typeof alertmanagerConfig>;

export const verifyAlertmanager = (delivery: RawDelivery, config: AlertmanagerConfig) => verifyBearer(delivery, config.token);

/**
 * Alertmanager webhook v4 from the organisation's model monitors: each firing alert is an
 * `alert.fired` awaiting triage, identified by fingerprint and start (a re-notification of the same
 * firing alert counts once; the same alert firing again later is a new one).
 */
export function mapAlertmanager(body: unknown, config: AlertmanagerConfig): Mapped {
  if (!isObject(body) || !Array.isArray(body.alerts)) return badRequest('an Alertmanager webhook body has an alerts array (webhook v4)');
  const events: DraftEvent[] = [];
  for (const [index, alert] of body.alerts.entries()) {
    if (!isObject(alert) || alert.status !== 'firing') continue;
    const labels = isObject(alert.labels) ? Object.fromEntries(Object.entries(alert.labels).filter(([, value]) => typeof value === 'string')) as Record<string, string> : {};
    const fingerprint = str(alert.fingerprint);
    const startsAt = rfc3339(alert.startsAt);
    if (!fingerprint || !startsAt) return badRequest(`alerts[${index}]: fingerprint and startsAt are required`);
    const owner = labels.team ?? config.default_team;
    if (!owner) return unmappable(`alerts[${index}] (${labels.alertname ?? fingerprint}): no team label and no alertmanager.default_team`);
    if (!labels.alertname) return unmappable(`alerts[${index}] (${fingerprint}): no alertname label`);
    const alertId = `${fingerprint}:${startsAt}`;
    const modelId = labels.model_id ?? labels.model;
    events.push(
      draftEvent(
        'alert.fired',
        { alert_id: alertId, team: owner, name: labels.alertname, labels, ...(modelId ? { model_id: modelId } : {}), ...(labels.severity ? { severity: labels.severity } : {}) },
        { source: 'alertmanager', id: alertId, time: startsAt },
      ),
    );
  }
  if (events.length === 0) return ignored('no firing alert (resolved notifications carry nothing to triage)');
  return { kind: 'events', events };
}
