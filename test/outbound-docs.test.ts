import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRulesDocument } from '@kpi/alerts';
import { run } from '@kpi/infra';

// The README's outbound examples are what users copy: each must be accepted by the tool it is for.
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const section = README.slice(README.indexOf('## Outbound'), README.indexOf('\n## ', README.indexOf('## Outbound') + 1));
const [rulesFile, alertmanagerConfig, scrapeConfig] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
const { parse: parseYaml } = createRequire(fileURLToPath(new URL('../packages/alerts/package.json', import.meta.url)))('yaml') as { parse(text: string): unknown };
const dir = mkdtempSync(join(tmpdir(), 'kpi-readme-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('README outbound examples', () => {
  it('the rules file with alertmanager, pagerduty and teams receivers parses', () => {
    const { rules, defaultReceivers } = parseRulesDocument(parseYaml(rulesFile!), 'README');
    expect(defaultReceivers.map((receiver) => receiver.type)).toEqual(['alertmanager']);
    expect(rules[0]!.receivers.map((receiver) => receiver.type)).toEqual(['pagerduty', 'teams']);
  });

  it('the Alertmanager configuration passes amtool check-config', async () => {
    await expect(run('amtool', ['check-config', file('alertmanager.yml', alertmanagerConfig!)])).resolves.toMatch(/SUCCESS/);
  });

  it('the scrape configuration passes promtool check config', async () => {
    const tokenFile = file('kpi-read-token', 'read-token\n');
    await expect(run('promtool', ['check', 'config', file('prometheus.yml', scrapeConfig!.replace('/etc/prometheus/kpi-read-token', tokenFile))])).resolves.toMatch(/SUCCESS/);
  });
});
