import type { Logger } from 'pino';

/** Exit codes of every process of the pipeline (README, "Exit codes"). */
export const EXIT = {
  /** Stopped on a signal: everything drained and closed within the deadline. */
  clean: 0,
  /** Start-up failed, or an unexpected error. */
  failed: 1,
  /** A configuration error (one line names the variable). */
  config: 2,
  /** Stopped on a signal, but not everything drained or closed before the deadline (or a second signal). */
  unclean: 3,
  /** The start command's local Kafka broker or Redis kept exiting: the supervisor gave up. */
  gaveUp: 4,
} as const;

/**
 * Waits at most `ms` for `work`: its value, or `{ done: false }` when it is late. The work itself
 * is not cancelled; a rejection before the time is up rejects.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The instant a shutdown must be over by. */
export class Deadline {
  constructor(readonly at: number) {}

  static in(ms: number): Deadline {
    return new Deadline(Date.now() + ms);
  }

  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }
}

/** A step of a shutdown, given the deadline so it can fall back to a forced stop in time. */
export interface StopStep {
  name: string;
  stop(deadline: Deadline): Promise<void>;
  /** Waited for at least this long even past the deadline (default 1 s): e.g. until a SIGKILL is sure to have landed. */
  minMs?: number;
}

/**
 * Runs steps in order, each bounded by what is left of the deadline (at least its `minMs`, so
 * that closing clients still happens after a slow drain). A step that fails or overruns is logged
 * and left behind. Resolves true when every step finished in time.
 */
export async function runSteps(steps: StopStep[], deadline: Deadline, log: Logger | undefined): Promise<boolean> {
  let clean = true;
  for (const step of steps) {
    const slice = Math.max(deadline.remaining(), step.minMs ?? 1_000);
    const started = performance.now();
    try {
      if (!(await within(step.stop(deadline), slice)).done) {
        clean = false;
        log?.error({ step: step.name, waitedMs: slice }, 'did not stop before the shutdown deadline; left behind');
      } else {
        // Where a slow shutdown's time went, step by step.
        log?.info({ step: step.name, ms: Math.round(performance.now() - started) }, 'stopped');
      }
    } catch (error) {
      clean = false;
      log?.error({ err: error, step: step.name }, 'did not stop cleanly');
    }
  }
  return clean;
}

/**
 * On SIGINT/SIGTERM (once): runs `stop` and exits 0 when it reports a clean stop, 3 otherwise.
 * Whatever hangs, the process exits 3 once `timeoutMs` and a grace of 10 s have passed; a second
 * signal exits 3 at once.
 */
export function stopOnSignals(log: Logger | (() => Logger | undefined), stop: () => Promise<boolean>, timeoutMs: number): void {
  let stopping = false;
  const logger = () => (typeof log === 'function' ? log() : log);
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger()?.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(EXIT.unclean);
    }
    stopping = true;
    logger()?.info({ signal, deadlineMs: timeoutMs }, 'stopping: no new work, draining what is in flight');
    setTimeout(() => {
      logger()?.error({ waitedMs: timeoutMs + 10_000 }, 'shutdown still not over; exiting');
      process.exit(EXIT.unclean);
    }, timeoutMs + 10_000);
    stop()
      .then((clean) => {
        logger()?.info({ clean }, clean ? 'stopped cleanly' : 'stopped, but not everything drained or closed in time');
        process.exit(clean ? EXIT.clean : EXIT.unclean);
      })
      .catch((error) => {
        logger()?.error({ err: error }, 'error while stopping');
        process.exit(EXIT.unclean);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
