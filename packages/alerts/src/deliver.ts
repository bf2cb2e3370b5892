import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { alertNotificationsFailed, alertNotificationsSent } from '@kpi/metrics';
import type { Queues } from '@kpi/queue';
import type { Storage } from '@kpi/storage';
import { recordDelivery } from './history.ts';
import type { Notification } from './notify.ts';
import { endpointOf, headersOf } from './receivers/index.ts';
import type { AlertStore } from './store.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** How notifications are delivered: BullMQ retries with exponential backoff (delay x 2^(attempt-1)). */
export interface DeliveryOptions {
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

/**
 * Makes sure every notification of the outbox has a delivery job. The job id is the
 * notification's id, so asking again for one already queued, retrying or done is a no-op:
 * a crash between storing a notification and queueing it only delays it to the next evaluation.
 */
export async function enqueueDeliveries(queues: Queues, notifications: Notification[], options: DeliveryOptions): Promise<void> {
  if (notifications.length === 0) return;
  await queues.queue('alertNotify').addBulk(
    notifications.map((notification) => ({
      name: notification.receiver.type,
      data: { id: notification.id },
      opts: { jobId: `notify-${notification.id}`, attempts: options.attempts, backoff: { type: 'exponential', delay: options.backoffMs } },
    })),
  );
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** POSTs a notification's body, the same bytes and the same idempotency key on every attempt. */
export async function post(notification: Notification, timeoutMs: number): Promise<void> {
  const receiver = notification.receiver;
  let response: Response;
  try {
    response = await fetch(endpointOf(receiver), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'kpi-pipeline-alerts/0.1',
        [IDEMPOTENCY_HEADER]: notification.id,
        'X-Alert-Group-Key': encodeURIComponent(notification.group_key),
        'X-Alert-Sequence': String(notification.seq),
        ...headersOf(receiver),
      },
      body: notification.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryError(`${receiver.name}: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause ?? (error as Error).message)}`, true);
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  // As Alertmanager: client errors will not get better by retrying, except timeouts and rate limits.
  const retryable = response.status >= 500 || [408, 425, 429].includes(response.status);
  throw new DeliveryError(`${receiver.name}: HTTP ${response.status}${text ? ` ${text.slice(0, 200)}` : ''}`, retryable);
}

export interface DeliverDeps {
  store: AlertStore;
  storage: Storage;
  timeoutMs: number;
  /** How long a notification waits for an earlier one of its group before looking again. */
  orderDelayMs?: number;
  log?: { warn(object: object, message: string): void; error(object: object, message: string): void };
}

/**
 * The delivery job of one notification. Notifications of a group go out in order: one waits
 * (without using an attempt) while an earlier one of its group is still undelivered. A failed
 * attempt is retried by BullMQ with exponential backoff; after the last attempt, or when the
 * receiver refuses it (4xx), the notification is given up on and recorded as such. A snapshot
 * (the whole state of its group) with a later one behind it is superseded instead: not sent, or
 * not retried; the later one carries everything it said, and goes out after it, never before.
 */
export async function deliverNotification(deps: DeliverDeps, id: string, job: Job): Promise<{ outcome: 'sent' | 'already_done' | 'superseded'; seq?: number }> {
  const notification = await deps.store.outboxEntry(id);
  if (!notification) return { outcome: 'already_done' };
  const head = await deps.store.outboxHead(notification.group);
  if (head !== undefined && head !== id) {
    await job.moveToDelayed(Date.now() + (deps.orderDelayMs ?? 500), job.token);
    throw new DelayedError();
  }
  const type = notification.receiver.type;
  const superseded = async () => {
    if (!notification.snapshot || !(await deps.store.hasLater(notification))) return false;
    alertNotificationsFailed.inc({ receiver_type: type, outcome: 'superseded' });
    await deps.store.finish(notification);
    return true;
  };
  if (await superseded()) return { outcome: 'superseded', seq: notification.seq };
  try {
    await post(notification, deps.timeoutMs);
  } catch (error) {
    const retryable = !(error instanceof DeliveryError) || error.retryable;
    const attempts = job.opts.attempts ?? 1;
    if (retryable && (await superseded())) return { outcome: 'superseded', seq: notification.seq };
    if (retryable && job.attemptsMade + 1 < attempts) {
      alertNotificationsFailed.inc({ receiver_type: type, outcome: 'retry' });
      throw error;
    }
    alertNotificationsFailed.inc({ receiver_type: type, outcome: 'gave_up' });
    await deps.store.finish(notification);
    deps.log?.error({ notification: id, rule: notification.rule, receiver: notification.receiver.name, attempts: job.attemptsMade + 1, err: error }, 'alert notification given up');
    await recordDelivery(deps.storage, notification, 'gave_up', job.attemptsMade + 1, (error as Error).message).catch((recordError: unknown) =>
      deps.log?.warn({ err: recordError, notification: id }, 'could not record an alert notification given up'),
    );
    throw new UnrecoverableError(`given up after ${job.attemptsMade + 1} attempt(s): ${(error as Error).message}`);
  }
  alertNotificationsSent.inc({ receiver_type: type, status: notification.status });
  await deps.store.finish(notification);
  await recordDelivery(deps.storage, notification, 'sent', job.attemptsMade + 1).catch((error) => deps.log?.warn({ err: error }, 'could not record an alert notification delivery'));
  return { outcome: 'sent', seq: notification.seq };
}
