import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '@kpi/config';
import { CONNECTOR_NAMES, type ConnectorName } from '@kpi/schemas';
import { alertmanagerConfig } from './alertmanager.ts';
import { argocdConfig } from './argocd.ts';
import { cdeventsConfig } from './cdevents.ts';
import { datadogConfig } from './datadog.ts';
import { databricksConfig } from './databricks.ts';
import { evidentlyConfig } from './evidently.ts';
import { githubConfig } from './github.ts';
import { greatExpectationsConfig } from './great-expectations.ts';
import { growthbookConfig } from './growthbook.ts';
import { jiraConfig } from './jira.ts';
import { mlflowConfig } from './mlflow.ts';
import { openlineageConfig } from './openlineage.ts';
import { pagerdutyConfig } from './pagerduty.ts';
import { servicenowConfig } from './servicenow.ts';

// One section per name of CONNECTOR_NAMES (@kpi/schemas, same order): the compiler refuses a missing or extra one.
const connectorSections = {
  github: githubConfig.optional(),
  mlflow: mlflowConfig.optional(),
  argocd: argocdConfig.optional(),
  pagerduty: pagerdutyConfig.optional(),
  alertmanager: alertmanagerConfig.optional(),
  growthbook: growthbookConfig.optional(),
  jira: jiraConfig.optional(),
  datadog: datadogConfig.optional(),
  servicenow: servicenowConfig.optional(),
  cdevents: cdeventsConfig.optional(),
  openlineage: openlineageConfig.optional(),
  great_expectations: greatExpectationsConfig.optional(),
  evidently: evidentlyConfig.optional(),
  databricks: databricksConfig.optional(),
} satisfies Record<ConnectorName, z.ZodOptional>;
/** KPI_CONNECTORS_FILE: one optional section per connector; a connector absent from it answers 404. */
export const connectorsFileSchema = z.strictObject(connectorSections);
export type ConnectorsConfig = z.infer<typeof connectorsFileSchema>;
export { CONNECTOR_NAMES, type ConnectorName } from '@kpi/schemas';

const formatPath = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';

/** `${VAR}` in any string takes the variable's value; an unset variable is an error naming the field. */
function expand(value: unknown, env: NodeJS.ProcessEnv, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined || found === '') problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
      return found ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => expand(item, env, [...path, String(index)], problems));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expand(item, env, [...path, key], problems)]));
  return value;
}

/**
 * Reads KPI_CONNECTORS_FILE once, at start-up. Any problem stops start-up with a ConfigError that
 * names the file and the field (`KPI_CONNECTORS_FILE=/etc/kpi/connectors.yaml: github.repositories.acme/ranker.tier: expected 1, 2 or 3`).
 */
export function loadConnectorsFile(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectorsConfig {
  if (!path) return {};
  const fail = (message: string) => new ConfigError(`KPI_CONNECTORS_FILE=${path}: ${message}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(`cannot read the file: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (error) {
    throw fail(`not valid YAML: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const expanded = expand(parsed, env, [], problems);
  if (problems.length > 0) throw fail(problems.join('; '));
  const result = connectorsFileSchema.safeParse(expanded);
  if (!result.success) {
    throw fail(
      result.error.issues
        .map((issue) => (issue.code === 'unrecognized_keys' ? `${formatPath(issue.path)}: unknown field(s) ${issue.keys.join(', ')}${issue.path.length === 0 ? ` (connectors: ${CONNECTOR_NAMES.join(', ')})` : ''}` : `${formatPath(issue.path)}: ${issue.message}`))
        .join('; '),
    );
  }
  return result.data;
}
