import { z } from 'zod';
import type { ConfigFile } from '@kpi/config';
import type { Storage } from '@kpi/storage';
import { DEFAULT_RULES } from './defaults.ts';
import { describeIssues, receiverSchema, ruleSchema, type AlertRule, type Receiver, type RuleOrigin } from './rule.ts';

/**
 * Where rules come from, in increasing precedence by name: the built-in defaults
 * (ALERT_DEFAULT_RULES), the deployment's file (ALERT_RULES_FILE) and the admin API (stored in
 * ClickHouse). A rule set through the API replaces a file or default rule of the same name;
 * deleting it brings that one back.
 */
export interface RuleSources {
  defaults: AlertRule[];
  file: AlertRule[];
  /** Receivers for rules that name none (the built-in defaults included). */
  defaultReceivers: Receiver[];
  fileName: string | undefined;
}

export interface RuleInForce {
  rule: AlertRule;
  origin: RuleOrigin;
}

export class RulesFileError extends Error {
  override name = 'RulesFileError';
}

const fileSchema = z
  .object({
    default_receivers: z.array(receiverSchema).default([]),
    rules: z.array(z.unknown()).default([]),
  })
  .strict();

export function parseRulesDocument(document: unknown, where: string): { rules: AlertRule[]; defaultReceivers: Receiver[] } {
  const shaped = fileSchema.safeParse(Array.isArray(document) ? { rules: document } : document);
  if (!shaped.success) throw new RulesFileError(`${where}: ${describeIssues(shaped.error).join('; ')}`);
  const rules: AlertRule[] = [];
  const problems: string[] = [];
  shaped.data.rules.forEach((input, index) => {
    const result = ruleSchema.safeParse(input);
    const label = `rules.${index}${typeof (input as { name?: unknown })?.name === 'string' ? ` (${(input as { name: string }).name})` : ''}`;
    if (!result.success) problems.push(...describeIssues(result.error, label));
    else if (rules.some((rule) => rule.name === result.data.name)) problems.push(`${label}.name: duplicate rule name ${result.data.name}`);
    else rules.push(result.data);
  });
  if (problems.length > 0) throw new RulesFileError(`${where}: ${problems.join('; ')}`);
  const defaultReceivers = shaped.data.default_receivers.map((receiver, index) => ({ ...receiver, name: receiver.name ?? `${receiver.type}-${index + 1}` }));
  return { rules, defaultReceivers };
}

/**
 * The rule sources of a deployment: the built-in defaults and the rules file (ALERT_RULES_FILE, read
 * once into the configuration): YAML (or JSON), either a list of rules or
 * `{ default_receivers: [...], rules: [...] }`. A bad file stops start-up naming the rule and the field.
 */
export function loadRuleSources(options: { file: ConfigFile | undefined; defaults: boolean }): RuleSources {
  const { file } = options;
  const fromFile = file ? parseRulesDocument(file.document ?? [], `${file.variable}=${file.path}`) : { rules: [], defaultReceivers: [] };
  return {
    defaults: options.defaults ? DEFAULT_RULES.map((rule) => ruleSchema.parse(rule)) : [],
    file: fromFile.rules,
    defaultReceivers: fromFile.defaultReceivers,
    fileName: file?.path,
  };
}

export const receiversOf = (rule: AlertRule, sources: RuleSources): Receiver[] => (rule.receivers.length > 0 ? rule.receivers : sources.defaultReceivers);

const stamp = () => new Date().toISOString().replace('T', ' ').replace('Z', '');

export async function saveRule(storage: Storage, rule: AlertRule): Promise<void> {
  await storage.insert('alert_rules', [{ name: rule.name, definition: JSON.stringify(rule), deleted: 0, updated_at: stamp() }]);
}

export async function deleteStoredRule(storage: Storage, name: string): Promise<void> {
  await storage.insert('alert_rules', [{ name, definition: '', deleted: 1, updated_at: stamp() }]);
}

/** Rules set through the API. A stored rule that no longer validates (a KPI gone from the catalog) is reported, not used. */
export async function storedRules(storage: Storage, onInvalid: (name: string, problem: string) => void = () => undefined): Promise<AlertRule[]> {
  const rows = await storage.query<{ name: string; definition: string }>('SELECT name, definition FROM {db:Identifier}.alert_rules FINAL WHERE deleted = 0 ORDER BY name');
  const rules: AlertRule[] = [];
  for (const row of rows) {
    const result = ruleSchema.safeParse(JSON.parse(row.definition));
    if (result.success) rules.push(result.data);
    else onInvalid(row.name, describeIssues(result.error).join('; '));
  }
  return rules;
}

/** Every rule in force by name, API over file over defaults, sorted by name. */
export async function rulesInForce(storage: Storage, sources: RuleSources, onInvalid?: (name: string, problem: string) => void): Promise<RuleInForce[]> {
  const byName = new Map<string, RuleInForce>();
  for (const rule of sources.defaults) byName.set(rule.name, { rule, origin: 'default' });
  for (const rule of sources.file) byName.set(rule.name, { rule, origin: 'file' });
  for (const rule of await storedRules(storage, onInvalid)) byName.set(rule.name, { rule, origin: 'api' });
  return [...byName.values()].sort((a, b) => (a.rule.name < b.rule.name ? -1 : a.rule.name > b.rule.name ? 1 : 0));
}

/** Where a rule of this name would come from if the API's version were removed. */
export function fallbackOrigin(sources: RuleSources, name: string): RuleOrigin | undefined {
  if (sources.file.some((rule) => rule.name === name)) return 'file';
  if (sources.defaults.some((rule) => rule.name === name)) return 'default';
  return undefined;
}
