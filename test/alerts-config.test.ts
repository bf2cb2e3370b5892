import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AlertStore, evaluateAlerts, ruleSchema, saveRule, type EvaluatorDeps, type RuleSources } from '@kpi/alerts';
import { ValueReplica } from '@kpi/serving';
import type { Storage } from '@kpi/storage';
import { isolatedConfig, migratedStorage, sharedInfra, uniqueName } from '@kpi/testing';

// The evaluator keeps the rules and silences it read until the API announces a change: a rule
// stored without an announcement is not read (proof that the kept copy answers), an announcement
// from another process makes the next evaluation read them again.
let storage: Storage;
let redis: Redis;
beforeAll(async () => {
  storage = await migratedStorage(isolatedConfig());
  redis = new Redis(sharedInfra().redisUrl);
});
afterAll(async () => {
  redis?.disconnect();
  await storage?.close();
});

const sources: RuleSources = { defaults: [], file: [], defaultReceivers: [], fileName: undefined };

describe('rules and silences as alert evaluations read them', () => {
  it('are read again once a change is announced, by any process, and kept otherwise', async () => {
    const prefix = uniqueName('alerts');
    const evaluatorStore = new AlertStore(redis, prefix);
    // What the API process holds: another store on the same Redis keys.
    const apiStore = new AlertStore(redis, prefix);
    const deps: EvaluatorDeps = {
      storage,
      store: evaluatorStore,
      sources,
      served: { values: new ValueReplica(), overrides: () => [], knownTeams: async () => ['ranking'] },
      externalUrl: 'http://kpi.example.com',
      evaluationIntervalMs: 1_000,
    };
    const now = new Date();
    expect((await evaluateAlerts(deps, now)).rules).toBe(0);

    await saveRule(storage, ruleSchema.parse({ name: 'kept-rule', kpi: 'sev0_incidents', scope: 'team', team: 'ranking', severity: 'critical' }));
    // Stored, not announced: the evaluation uses the rules it kept.
    expect((await evaluateAlerts(deps, new Date(now.getTime() + 1_000))).rules).toBe(0);

    await apiStore.configChanged();
    const announced = await evaluateAlerts(deps, new Date(now.getTime() + 2_000));
    expect(announced.rules).toBe(1);
  });
});
