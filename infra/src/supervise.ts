import type { ChildProcess } from 'node:child_process';

/** A local server the supervisor can watch and start again (LocalKafka, LocalRedis). */
export interface Restartable {
  readonly process: ChildProcess | undefined;
  restart(): Promise<void>;
}

export interface RestartPolicy {
  /** More unexpected exits (or failed starts) than this within `windowMs`: give up. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the first restart in the window, doubled for each further one, at most `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface SupervisorEvents {
  /** It exited on its own; a restart follows in `restartInMs`. */
  exited(info: { code: number | null; signal: NodeJS.Signals | null; restartInMs: number; failures: number }): void;
  restarted(): void;
  restartFailed(error: unknown): void;
  /** Too many failures: nothing more is tried. */
  gaveUp(error: Error): void;
}

export interface Supervisor {
  /** No restart from now on (a stop that is about to happen is not a failure). */
  stop(): void;
}

/**
 * Restarts `service` whenever its process exits without being asked to, with exponential backoff,
 * and gives up after `policy.maxRestarts` failures within `policy.windowMs` (a crash loop: a full
 * disk, a port taken, a corrupt log), so that a person can look.
 */
export function supervise(name: string, service: Restartable, policy: RestartPolicy, events: SupervisorEvents): Supervisor {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const failures: number[] = [];

  const failed = (code: number | null, signal: NodeJS.Signals | null) => {
    if (stopped) return;
    const now = Date.now();
    failures.push(now);
    while (failures[0]! < now - policy.windowMs) failures.shift();
    if (failures.length > policy.maxRestarts) {
      stopped = true;
      events.gaveUp(new Error(`${name} failed ${failures.length} times within ${Math.round(policy.windowMs / 60_000)} min (last: ${describeExit(code, signal)}); giving up`));
      return;
    }
    const restartInMs = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (failures.length - 1));
    events.exited({ code, signal, restartInMs, failures: failures.length });
    timer = setTimeout(restart, restartInMs);
  };

  const watch = (child: ChildProcess | undefined) => {
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) failed(child.exitCode, child.signalCode);
    else child.once('exit', (code, signal) => failed(code, signal));
  };

  const restart = async () => {
    if (stopped) return;
    try {
      await service.restart();
    } catch (error) {
      if (stopped) return;
      events.restartFailed(error);
      failed(null, null);
      return;
    }
    if (stopped) return;
    watch(service.process);
    events.restarted();
  };

  watch(service.process);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  if (code !== null) return `exit code ${code}`;
  return 'did not start';
}
