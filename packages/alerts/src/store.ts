import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { alertLockRenewalFailures } from '@kpi/metrics';
import type { GroupState, Notification } from './notify.ts';
import type { AlertInstance } from './state.ts';

/**
 * Alert state in Redis, next to the queues that act on it, so it survives any worker restart
 * and every worker and API process sees the same: the alert instances, the notification groups,
 * and the outbox of notifications not yet delivered. One evaluation writes all of it in one
 * MULTI, so a crash leaves either the old state or the new one. The keys share a hash tag
 * (one slot on a Redis cluster).
 */
export class AlertStore {
  private readonly keys: { instances: string; instancesVersion: string; groups: string; outbox: string; lock: string; rerun: string; configVersion: string };

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    const base = `${prefix}:{alerts}`;
    this.keys = { instances: `${base}:instances`, instancesVersion: `${base}:instances-version`, groups: `${base}:groups`, outbox: `${base}:outbox`, lock: `${base}:evaluation-lock`, rerun: `${base}:rerun`, configVersion: `${base}:config-version` };
  }

  private outboxOrder(group: string) {
    return `${this.prefix}:{alerts}:outbox:${group}`;
  }

  /** The instances as last read, and the version of the hash they were read at. */
  private read: { version: string | null; instances: Readonly<AlertInstance>[] } | undefined;

  /**
   * The instances, never changed by their readers (the evaluator derives new ones; the API lists
   * them on every request): read again only when an evaluation changed them (a version bumped with
   * every change), a small GET otherwise, where the whole hash would cross the wire each time.
   */
  async instances(): Promise<Readonly<AlertInstance>[]> {
    const version = await this.redis.get(this.keys.instancesVersion);
    if (this.read && this.read.version === version) return this.read.instances;
    // Read after the version: a change in between is read now and read again next time, never missed.
    const instances = (await this.redis.hvals(this.keys.instances)).map((text) => Object.freeze(JSON.parse(text) as AlertInstance));
    this.read = { version, instances };
    return instances;
  }

  async groups(): Promise<GroupState[]> {
    const all = await this.redis.hvals(this.keys.groups);
    return all.map((text) => JSON.parse(text) as GroupState);
  }

  /** Writes one evaluation's outcome atomically: instances, groups and new notifications. */
  async commit(change: { instances: AlertInstance[]; removedInstances: string[]; groups: GroupState[]; removedGroups: string[]; notifications: Notification[] }): Promise<void> {
    const multi = this.redis.multi();
    if (change.instances.length > 0) multi.hset(this.keys.instances, Object.fromEntries(change.instances.map((instance) => [instance.fingerprint, JSON.stringify(instance)])));
    if (change.removedInstances.length > 0) multi.hdel(this.keys.instances, ...change.removedInstances);
    if (change.instances.length > 0 || change.removedInstances.length > 0) multi.incr(this.keys.instancesVersion);
    if (change.groups.length > 0) multi.hset(this.keys.groups, Object.fromEntries(change.groups.map((group) => [group.id, JSON.stringify(group)])));
    if (change.removedGroups.length > 0) multi.hdel(this.keys.groups, ...change.removedGroups);
    for (const notification of change.notifications) {
      multi.hset(this.keys.outbox, notification.id, JSON.stringify(notification));
      multi.zadd(this.outboxOrder(notification.group), notification.seq, notification.id);
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new Error(`could not store the alert state: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }

  /** Notifications not yet delivered (nor given up on). */
  async outbox(): Promise<Notification[]> {
    const all = await this.redis.hvals(this.keys.outbox);
    return all.map((text) => JSON.parse(text) as Notification).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.seq - b.seq);
  }

  async outboxEntry(id: string): Promise<Notification | undefined> {
    const text = await this.redis.hget(this.keys.outbox, id);
    return text ? (JSON.parse(text) as Notification) : undefined;
  }

  /** The group's oldest undelivered notification: deliveries of a group go out in order. */
  async outboxHead(group: string): Promise<string | undefined> {
    const [head] = await this.redis.zrange(this.outboxOrder(group), 0, 0);
    return head;
  }

  /** Whether a later notification of its group waits in the outbox (for a snapshot: one that makes it pointless). */
  async hasLater(notification: Notification): Promise<boolean> {
    return (await this.redis.zcount(this.outboxOrder(notification.group), `(${notification.seq}`, '+inf')) > 0;
  }

  /** Delivered, given up or superseded: out of the outbox. */
  async finish(notification: Notification): Promise<void> {
    await this.redis.multi().hdel(this.keys.outbox, notification.id).zrem(this.outboxOrder(notification.group), notification.id).exec();
  }

  /**
   * The evaluation lock: one evaluation at a time across every worker process. A lease, renewed
   * while held, so a killed worker's lock lapses within `leaseMs`. A failed renewal is counted
   * and logged: the lease may lapse under a running evaluation.
   */
  async lock(leaseMs: number, log?: { warn(object: object, message: string): void }): Promise<{ release(): Promise<void> } | undefined> {
    const token = randomBytes(12).toString('hex');
    const acquired = await this.redis.set(this.keys.lock, token, 'PX', leaseMs, 'NX');
    if (acquired !== 'OK') return undefined;
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, this.keys.lock, token, String(leaseMs)).catch((error: unknown) => {
        alertLockRenewalFailures.inc();
        log?.warn({ err: error, leaseMs }, 'could not renew the alert evaluation lock');
      });
    }, Math.max(100, Math.floor(leaseMs / 3)));
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await this.redis.eval(RELEASE, 1, this.keys.lock, token);
      },
    };
  }

  /** Asks the evaluation in progress to run once more when it ends (its inputs changed meanwhile). */
  async requestRerun(): Promise<void> {
    await this.redis.set(this.keys.rerun, '1', 'PX', 600_000);
  }

  async takeRerun(): Promise<boolean> {
    return (await this.redis.del(this.keys.rerun)) > 0;
  }

  /**
   * Rules or silences changed in ClickHouse: evaluators read them again. A random token rather
   * than a counter, so that a Redis that lost its data never hands out a version seen before.
   */
  async configChanged(): Promise<void> {
    await this.redis.set(this.keys.configVersion, randomBytes(12).toString('hex'));
  }

  /** The version of the rules and silences (null until a change was announced). */
  configVersion(): Promise<string | null> {
    return this.redis.get(this.keys.configVersion);
  }
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
