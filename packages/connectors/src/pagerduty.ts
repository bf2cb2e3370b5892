import { z } from 'zod';
import { badRequest, hmacSha256, ignored, isObject, rfc3339, safeEqual, str, unmappable, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { category, secret, severity, team, tier, type Severity } from './schema.ts';

export const pagerdutyConfig = z.strictObject({
  secret,
  services: z.record(z.string().min(1), z.strictObject({ team, tier, category })).default({}),
  /** PagerDuty team id -> our team (an incident mapped this way is tier 3, category other). */
  teams: z.record(z.string().min(1), team).default({}),
  /** Priority name (P1, P2, ...) -> severity; without one, urgency high -> sev1, low -> sev3. */
  severity: z.record(z.string().min(1), severity).default({}),
});
export type PagerdutyConfig = z.infer<typeof pagerdutyConfig>;

/** `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` (several while a secret rotates): any one matching counts. */
export function verifyPagerduty(delivery: RawDelivery, config: PagerdutyConfig): string | undefined {
  const header = delivery.headers['x-pagerduty-signature'];
  if (!header) return 'missing X-PagerDuty-Signature';
  const expected = `v1=${hmacSha256(config.secret, delivery.body).toString('hex')}`;
  const match = header.split(',').map((part) => part.trim()).filter((part) => part.startsWith('v1=')).some((part) => safeEqual(part, expected));
  return match ? undefined : 'no X-PagerDuty-Signature v1 value matches the body';
}

function severityOf(incident: Record<string, unknown>, config: PagerdutyConfig): Severity | undefined {
  const priority = isObject(incident.priority) ? str(incident.priority.summary) : undefined;
  if (priority && config.severity[priority]) return config.severity[priority];
  return incident.urgency === 'high' ? 'sev1' : incident.urgency === 'low' ? 'sev3' : undefined;
}

/** PagerDuty V3 webhooks: triggered -> incident.opened, priority_updated -> incident.updated, resolved -> incident.resolved. */
export function mapPagerduty(body: unknown, config: PagerdutyConfig): Mapped {
  if (!isObject(body) || !isObject(body.event)) return badRequest('a PagerDuty V3 webhook body is {"event": {...}}');
  const { event } = body;
  const type = str(event.event_type);
  if (type !== 'incident.triggered' && type !== 'incident.priority_updated' && type !== 'incident.resolved') {
    return ignored(`PagerDuty event ${JSON.stringify(type ?? '')} carries nothing to measure`);
  }
  const incident = isObject(event.data) ? event.data : undefined;
  const eventId = str(event.id);
  if (!incident || !str(incident.id) || !eventId) return badRequest('event.id and event.data.id are required');
  const incidentId = `pagerduty:${String(incident.id)}`;
  const meta = { source: 'pagerduty', id: eventId };
  const occurred = rfc3339(event.occurred_at);
  if (type === 'incident.resolved') {
    if (!occurred) return badRequest('event.occurred_at is not a timestamp');
    return { kind: 'events', events: [draftEvent('incident.resolved', { incident_id: incidentId }, { ...meta, time: occurred })] };
  }
  const sev = severityOf(incident, config);
  if (type === 'incident.priority_updated') {
    if (!occurred) return badRequest('event.occurred_at is not a timestamp');
    if (!sev) return unmappable(`priority ${JSON.stringify(isObject(incident.priority) ? incident.priority.summary : null)} is not in pagerduty.severity and the urgency is neither high nor low`);
    return { kind: 'events', events: [draftEvent('incident.updated', { incident_id: incidentId, severity: sev }, { ...meta, time: occurred })] };
  }
  const service = isObject(incident.service) ? incident.service : {};
  const serviceId = str(service.id) ?? '';
  const teamIds = (Array.isArray(incident.teams) ? incident.teams : []).map((entry) => (isObject(entry) ? str(entry.id) : undefined)).filter((id): id is string => id !== undefined);
  const byService = config.services[serviceId];
  const teamId = teamIds.find((id) => config.teams[id] !== undefined);
  const owner = byService ?? (teamId ? { team: config.teams[teamId]!, tier: 3 as const, category: 'other' as const } : undefined);
  if (!owner) return unmappable(`no team: service ${JSON.stringify(serviceId)} is not in pagerduty.services and none of the teams [${teamIds.join(', ')}] is in pagerduty.teams`);
  if (!sev) return unmappable(`no severity: priority ${JSON.stringify(isObject(incident.priority) ? incident.priority.summary : null)} is not in pagerduty.severity and the urgency is neither high nor low`);
  const created = rfc3339(incident.created_at);
  if (!created) return badRequest('event.data.created_at is not a timestamp');
  // PagerDuty knows when it paged, not when the degradation began: no started_at.
  return {
    kind: 'events',
    events: [draftEvent('incident.opened', { incident_id: incidentId, team: owner.team, tier: owner.tier, severity: sev, category: owner.category, detected_at: created }, { ...meta, time: created })],
  };
}
