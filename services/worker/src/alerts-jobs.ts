import type { Worker } from 'bullmq';
import { AlertStore, deliverNotification, loadRuleSources, requestEvaluation, runEvaluation } from '@kpi/alerts';
import { startWorker, type WorkerOptions } from '@kpi/queue';
import type { Runtime } from '@kpi/runtime';

/**
 * The alerting jobs of the worker role: rule evaluation (repeatable, and after each KPI
 * recompute) and notification delivery, reading KPI values and targets as the API serves them.
 * The rules file is read once at start-up; a bad one stops the worker with a message naming the file, the rule and the field.
 */
export function startAlertWorkers(runtime: Runtime, options: WorkerOptions): Worker[] {
  const { storage, redis, queues, config } = runtime;
  const log = runtime.log.child({ role: 'worker', part: 'alerts' });
  const sources = loadRuleSources({ file: config.alerts.rulesFile, defaults: config.alerts.defaultRules });
  const store = new AlertStore(redis, config.queuePrefix);
  const evaluator = { storage, store, sources, served: runtime.serving, externalUrl: config.alerts.externalUrl, evaluationIntervalMs: config.alerts.evaluationIntervalMs, log, queues, delivery: config.alerts.notify };
  return [
    // One evaluation at a time per process; the store's lock makes it one across processes.
    startWorker('alertEvaluate', async () => {
      await runtime.serving.ready();
      return runEvaluation(evaluator, runtime.clock());
    }, { ...options, concurrency: 1 }),
    startWorker('alertNotify', (payload, job) => deliverNotification({ store, storage, timeoutMs: config.alerts.notify.timeoutMs, log }, payload.id, job), options),
  ];
}

/**
 * Asks for an evaluation because KPI values changed: at most one a second while recomputes follow
 * each other (repeats collapse into the waiting job), so alerts cost the same at any ingest rate.
 */
export const evaluateAfterRecompute = (runtime: Runtime) => requestEvaluation(runtime.queues, 'recompute', EVALUATION_AFTER_RECOMPUTE_MS);

const EVALUATION_AFTER_RECOMPUTE_MS = 1_000;
