import type { Queues } from '@kpi/queue';
import { enqueueDeliveries, type DeliveryOptions } from './deliver.ts';
import { evaluateAlerts, type EvaluatorDeps } from './evaluator.ts';

/** One evaluation waiting and one running at most: repeated requests collapse into them. */
export async function requestEvaluation(queues: Queues, reason: string, delayMs = 0): Promise<void> {
  await queues.queue('alertEvaluate').add('evaluate', { reason }, { delay: delayMs, deduplication: { id: 'alert-evaluate', keepLastIfActive: true } });
}

/** A killed worker's evaluation lock lapses this soon; a live one renews it. */
const LOCK_LEASE_MS = 5_000;

/**
 * The evaluation job: evaluates every rule under the store's lock (one evaluation at a time
 * across every worker process), then makes sure every notification waiting in the outbox has a
 * delivery job. An evaluation asked for while another runs is run right after it.
 */
export async function runEvaluation(deps: EvaluatorDeps & { queues: Queues; delivery: DeliveryOptions }, now?: Date) {
  const lock = await deps.store.lock(LOCK_LEASE_MS, deps.log);
  if (!lock) {
    await deps.store.requestRerun();
    return { skipped: 'another evaluation is running; it will run again when done' };
  }
  let released = false;
  try {
    const result = await evaluateAlerts(deps, now);
    await enqueueDeliveries(deps.queues, await deps.store.outbox(), deps.delivery);
    await lock.release();
    released = true;
    if (await deps.store.takeRerun()) await requestEvaluation(deps.queues, 'rerun');
    return { rules: result.rules, instances: result.instances, transitions: result.transitions, notifications: result.notifications.map((n) => ({ id: n.id, rule: n.rule, receiver: n.receiver.name, status: n.status, seq: n.seq })) };
  } finally {
    if (!released) await lock.release().catch(() => undefined);
  }
}
