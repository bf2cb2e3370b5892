export { parseDuration, formatDuration, DURATION_HINT } from '@kpi/config';
export {
  ruleSchema, parsedRuleSchema, receiverSchema, namedReceiverSchema, RECEIVER_TYPES, parseRule, describeIssues, holdOf, timersOf, RuleError,
  RULE_NAME, LABEL_NAME, RESERVED_LABELS, OPERATORS, SEVERITIES,
  type AlertRule, type AlertRuleInput, type Receiver, type ReceiverInput, type RuleOrigin, type Severity, type Operator,
} from './rule.ts';
export { DEFAULT_RULES } from './defaults.ts';
export {
  loadRuleSources, parseRulesDocument, rulesInForce, storedRules, saveRule, deleteStoredRule, receiversOf, fallbackOrigin, RulesFileError,
  type RuleSources, type RuleInForce,
} from './rules.ts';
export { TEMPLATE_VARIABLES, renderTemplate, unknownPlaceholders, formatNumber, periodLabel } from './template.ts';
export { fingerprintOf, formatLabels, matcherSchema, matches, matchesAll, MATCH_OPS, type Labels, type Matcher } from './labels.ts';
export {
  silenceInputSchema, newSilence, saveSilence, listSilences, getSilence, expireSilence, silenceState, silencedBy,
  type Silence, type SilenceInput, type SilenceState,
} from './silences.ts';
export { step, conditionHolds, labelsOf, dashboardUrl, ALERT_STATES, type AlertInstance, type AlertState, type Observation, type Transition, type InstanceSpec } from './state.ts';
export {
  planNotifications, groupIdOf, notificationIdOf, ZERO_TIME, ALL_LABELS, LEASE_INTERVALS, RESOLVED_RESEND_MS,
  type GroupState, type Notification, type NotificationContent, type AlertView, type WebhookPayload, type WebhookAlert, type PlanInput, type Timers,
} from './notify.ts';
export { slackMessage, teamsMessage, pagerdutyEvent, postableAlerts, redactReceiver, endpointOf, type PostableAlert } from './receivers/index.ts';
export { readScopes, periodOfRule, type Reading } from './readings.ts';
export { recordTransitions, readHistory, recordDelivery, type HistoryEntry, type HistoryQuery } from './history.ts';
export { AlertStore } from './store.ts';
export { evaluateAlerts, type EvaluatorDeps, type EvaluationResult } from './evaluator.ts';
export { enqueueDeliveries, deliverNotification, post, DeliveryError, IDEMPOTENCY_HEADER, type DeliveryOptions, type DeliverDeps } from './deliver.ts';
export { runEvaluation, requestEvaluation } from './run.ts';
