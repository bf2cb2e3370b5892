import { setPriority } from 'node:os';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { loadConfig } from '@kpi/config';
import { localMetrics, type MetricsSnapshot } from '@kpi/metrics';
import { createLogger, createRuntime, Deadline, stopAll, type RoleHandle, type Runtime } from '@kpi/runtime';
import { startIngestRole } from '@kpi/ingest';
import { startWorkerRole } from '@kpi/worker';

/**
 * The computing roles (ingest, worker) of the start command run in a thread of their own, with
 * their own runtime (clients, served values) on the same embedded ClickHouse, so that the API's
 * event loop answers reads while they parse, plan and compute: what separate processes give in
 * server mode, within the one process that embedded ClickHouse allows. Values reach the API's
 * runtime through Redis, as they reach another API process.
 *
 * The thread must outlive the main thread's use of ClickHouse: a thread that exits tears down its
 * connections to the embedded engine in a way that leaves the other thread's statements hanging.
 * So the main thread stops its API and closes its clients first, and only then has this thread
 * stop its roles, close its clients and end; a thread that ends otherwise ends the process.
 */

export type ComputingRole = 'ingest' | 'worker';

/**
 * The OS priority (nice) of this thread's JavaScript, as of the embedded statements of recomputes
 * and inserts: when both threads want a core, the API's goes first. (On Linux a thread's niceness
 * is its own.)
 */
const ROLES_THREAD_NICENESS = 5;

interface ThreadData {
  roles: ComputingRole[];
  brokers: string[];
  redisUrl: string;
}

type Request = { kind: 'metrics'; id: number } | { kind: 'stop'; remainingMs: number };
type Reply = { kind: 'started' } | { kind: 'failed'; message: string } | { kind: 'metrics'; id: number; metrics: MetricsSnapshot } | { kind: 'stopped'; clean: boolean };

/** The thread's body: starts its roles, then answers the main thread's requests. */
export async function runRolesThread(): Promise<void> {
  const port = parentPort!;
  const send = (reply: Reply) => port.postMessage(reply);
  const { roles, brokers, redisUrl } = workerData as ThreadData;
  setPriority(ROLES_THREAD_NICENESS);
  try {
    const config = loadConfig();
    const log = createLogger(config).child({ thread: 'roles' });
    const runtime = await createRuntime(config, { brokers, redisUrl, log });
    const handles: RoleHandle[] = [];
    // The worker first: it has nothing to wait for (see the start command).
    if (roles.includes('worker')) handles.push(await startWorkerRole(runtime));
    if (roles.includes('ingest')) handles.push(await startIngestRole(runtime));
    port.on('message', (request: Request) => {
      if (request.kind === 'metrics') void localMetrics().then((metrics) => send({ kind: 'metrics', id: request.id, metrics }));
      if (request.kind === 'stop') {
        void stopAll(runtime, handles, Deadline.in(request.remainingMs)).then(async (clean) => {
          // The thread's log is written asynchronously, and nothing flushes it when the thread ends.
          await new Promise<void>((resolve) => log.flush(() => resolve()));
          send({ kind: 'stopped', clean });
        });
      }
    });
    send({ kind: 'started' });
  } catch (error) {
    send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

/** The main thread's handle on the roles thread. */
export class RolesThread {
  private nextId = 0;
  private ending = false;

  private constructor(private readonly worker: Worker) {}

  /**
   * Starts `roles` in a thread running `entry` (the start command's own bundle), resolving once
   * they run. `onLost` is called when the thread ends unasked (a crash): the caller ends the process.
   */
  static async start(entry: URL, data: ThreadData, log: Runtime['log'], onLost: (error: Error) => void): Promise<RolesThread> {
    const worker = new Worker(entry, { workerData: data });
    const thread = new RolesThread(worker);
    worker.on('error', (error) => {
      if (!thread.ending) onLost(error);
    });
    worker.on('exit', (code) => {
      if (!thread.ending) onLost(new Error(`the ingest and worker roles' thread exited (code ${code})`));
    });
    const first = await thread.next((reply) => reply.kind === 'started' || reply.kind === 'failed');
    if (first.kind === 'failed') {
      thread.ending = true;
      await worker.terminate();
      throw new Error(first.message);
    }
    log.info({ roles: data.roles }, 'ingest and worker roles running in their own thread');
    return thread;
  }

  /** The thread's metrics (its process-wide ones left out: the main thread reports those). */
  async metrics(): Promise<MetricsSnapshot> {
    const id = this.nextId++;
    const reply = this.next((candidate) => candidate.kind === 'metrics' && candidate.id === id);
    this.worker.postMessage({ kind: 'metrics', id } satisfies Request);
    return ((await reply) as Extract<Reply, { kind: 'metrics' }>).metrics;
  }

  /**
   * Stops the roles (their consumers and jobs drained by `deadline`), closes the thread's clients
   * and ends it: only once the main thread no longer uses ClickHouse. Resolves true when all was in time.
   */
  async stop(deadline: Deadline): Promise<boolean> {
    this.ending = true;
    const reply = this.next((candidate) => candidate.kind === 'stopped');
    this.worker.postMessage({ kind: 'stop', remainingMs: deadline.remaining() } satisfies Request);
    const { clean } = (await reply) as Extract<Reply, { kind: 'stopped' }>;
    await this.worker.terminate();
    return clean;
  }

  private next(wanted: (reply: Reply) => boolean): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if (!wanted(reply)) return;
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
        resolve(reply);
      };
      const onExit = (code: number) => {
        this.worker.off('message', onMessage);
        reject(new Error(`the ingest and worker roles' thread exited (code ${code})`));
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
    });
  }
}
