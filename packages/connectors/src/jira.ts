import { z } from 'zod';
import { badRequest, ignored, isObject, rfc3339, str, tagValue, unmappable, verifyHexHmac, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent, type DraftEvent } from './events.ts';
import { category, secret, severity, team, tier, tierOf } from './schema.ts';

export const jiraConfig = z.strictObject({
  secret,
  /** Jira project key -> team, for issues without a `team:<name>` label. */
  projects: z.record(z.string().min(1), team).default({}),
  /** Statuses that close an issue (a work item is closed, an incident resolved). */
  done_statuses: z.array(z.string().min(1)).min(1).default(['Done', 'Closed', 'Resolved']),
  /** Labels that make a closed issue ML debt. */
  debt_labels: z.array(z.string().min(1)).default(['ml-debt', 'tech-debt']),
  /** Issue types that are incidents (Jira Service Management). */
  incident_issue_types: z.array(z.string().min(1)).default(['Incident']),
  /** Priority name -> severity. */
  severity: z.record(z.string().min(1), severity).default({ Highest: 'sev0', High: 'sev1', Medium: 'sev2', Low: 'sev3', Lowest: 'sev3' }),
  default_tier: tier.default(2),
});
export type JiraConfig = z.infer<typeof jiraConfig>;

/** `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with the webhook's secret (Jira Cloud and Data Center). */
export const verifyJira = (delivery: RawDelivery, config: JiraConfig) => verifyHexHmac(delivery, 'x-hub-signature', config.secret, 'sha256=');

/** When a work item's first close was recorded (RFC 3339), if it was. */
export type FirstClose = (itemId: string) => Promise<string | undefined>;

interface ChangeItem {
  field: string;
  to: string;
}

/**
 * Jira webhooks (`jira:issue_created`, `jira:issue_updated`; SPEC §8b). An issue of an incident
 * type opens an incident when created, is resolved when its status moves to a done status and
 * changes severity with its priority. Any other issue is a work item, closed when its status moves
 * to a done status; it counts once, at its first close, so a reopened and closed again item maps to
 * nothing. Time = the webhook's `timestamp`.
 */
export async function mapJira(body: unknown, config: JiraConfig, firstClose: FirstClose): Promise<Mapped> {
  if (!isObject(body) || !str(body.webhookEvent)) return badRequest('a Jira webhook body is {timestamp, webhookEvent, issue, changelog, ...}');
  const event = String(body.webhookEvent);
  if (event !== 'jira:issue_created' && event !== 'jira:issue_updated') return ignored(`Jira event ${JSON.stringify(event)} carries nothing to measure (subscribe to issue created and updated)`);
  const time = typeof body.timestamp === 'number' ? rfc3339(body.timestamp) : undefined;
  const issue = isObject(body.issue) ? body.issue : undefined;
  const key = str(issue?.key);
  const fields = isObject(issue?.fields) ? issue.fields : undefined;
  if (!time) return badRequest('timestamp (epoch milliseconds) is required');
  if (!key || !fields) return badRequest('issue.key and issue.fields are required');
  const labels = Array.isArray(fields.labels) ? fields.labels.filter((label): label is string => typeof label === 'string') : [];
  const project = isObject(fields.project) ? str(fields.project.key) : undefined;
  const issueType = isObject(fields.issuetype) ? str(fields.issuetype.name) : undefined;
  const changelog = isObject(body.changelog) ? body.changelog : {};
  const changes: ChangeItem[] = (Array.isArray(changelog.items) ? changelog.items.filter(isObject) : []).map((item) => ({ field: String(item.field ?? ''), to: String(item.toString ?? '') }));
  const closed = changes.find((item) => item.field === 'status' && config.done_statuses.includes(item.to));
  const teamOf = () => tagValue(labels, 'team') ?? config.projects[project ?? ''];
  const noTeam = () => unmappable(`no team: issue ${key} has no team:<name> label and its project ${JSON.stringify(project ?? null)} is not in jira.projects`);
  const itemId = `jira:${key}`;
  const meta = { source: 'jira', time };

  if (issueType && config.incident_issue_types.includes(issueType)) {
    if (event === 'jira:issue_created') {
      const owner = teamOf();
      if (!owner) return noTeam();
      const priority = isObject(fields.priority) ? str(fields.priority.name) : undefined;
      const sev = config.severity[priority ?? ''];
      if (!sev) return unmappable(`no severity: priority ${JSON.stringify(priority ?? null)} of ${key} is not in jira.severity`);
      const labelledTier = tagValue(labels, 'tier');
      const incidentTier = labelledTier === undefined ? config.default_tier : tierOf(labelledTier);
      if (!incidentTier) return unmappable(`label tier:${labelledTier} of ${key} is not 1, 2 or 3`);
      const labelledCategory = category.safeParse(tagValue(labels, 'category'));
      const detected = fields.created === undefined ? time : rfc3339(fields.created);
      if (!detected) return badRequest(`fields.created ${JSON.stringify(fields.created)} of ${key} is not a timestamp`);
      const opened = { incident_id: itemId, team: owner, tier: incidentTier, severity: sev, category: labelledCategory.success ? labelledCategory.data : 'other', detected_at: detected };
      return { kind: 'events', events: [draftEvent('incident.opened', opened, { ...meta, id: `${itemId}:created` })] };
    }
    // A change is identified by its changelog id (one per edit, the same on Jira's retries).
    const change = `${itemId}:${str(changelog.id) ?? (typeof changelog.id === 'number' ? String(changelog.id) : `at-${time}`)}`;
    const events: DraftEvent[] = [];
    const reprioritised = changes.find((item) => item.field === 'priority');
    if (reprioritised) {
      const sev = config.severity[reprioritised.to];
      if (!sev) return unmappable(`no severity: priority ${JSON.stringify(reprioritised.to)} of ${key} is not in jira.severity`);
      events.push(draftEvent('incident.updated', { incident_id: itemId, severity: sev }, { ...meta, id: `${change}:priority` }));
    }
    if (closed) events.push(draftEvent('incident.resolved', { incident_id: itemId }, { ...meta, id: `${change}:resolved` }));
    if (events.length === 0) return ignored(`incident ${key}: neither its status moved to a done status (${config.done_statuses.join(', ')}) nor its priority changed`);
    return { kind: 'events', events };
  }

  if (event === 'jira:issue_created') return ignored(`issue ${key} is a work item: it counts when it closes`);
  if (!closed) return ignored(`issue ${key}: its status did not move to a done status (${config.done_statuses.join(', ')})`);
  const owner = teamOf();
  if (!owner) return noTeam();
  const first = await firstClose(itemId);
  if (first !== undefined && Date.parse(first) < Date.parse(time)) return ignored(`issue ${key} was closed before (${first}): a work item counts once, at its first close`);
  const kind = labels.some((label) => config.debt_labels.includes(label)) ? 'ml_debt' : 'other';
  return { kind: 'events', events: [draftEvent('workitem.closed', { item_id: itemId, team: owner, kind }, { ...meta, id: `${itemId}:closed` })] };
}
