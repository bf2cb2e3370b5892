import { loadConfig } from '@kpi/config';
import { createRuntime, runMain, stopAll, stopOnSignals, type Runtime } from '@kpi/runtime';
import type { Progress } from './kpi-jobs.ts';
import { rebuildAll, startWorkerRole } from './role.ts';

// `node services/worker`: the worker role alone; `node services/worker --rebuild` recomputes every KPI and exits.
runMain(async () => {
  const runtime = await createRuntime(loadConfig());
  if (process.argv.includes('--rebuild')) {
    const started = Date.now();
    // Start-up (process start to here: loading the code, opening ClickHouse, connecting Redis), which bench/kpi.ts reports.
    runtime.log.info({ startUpSeconds: process.uptime() }, 'rebuild started');
    // Every value goes to ClickHouse; then the processes that serve them load them from there, once.
    // Backlogs count against the targets in force: the API's overrides and KPI_TARGETS_FILE's.
    const target = { storage: runtime.storage, overrides: await runtime.serving.loadOverrides() };
    const written = await rebuildAll(target, new Date(), progressReporter(runtime), runtime.catalog.list());
    await runtime.serving.rebuilt();
    runtime.log.info({ written, seconds: (Date.now() - started) / 1000 }, 'rebuilt every KPI value');
    await runtime.close();
    return;
  }
  const handle = await startWorkerRole(runtime);
  stopOnSignals(runtime.log, () => stopAll(runtime, [handle]), runtime.config.shutdown.timeoutMs);
  runtime.log.info('worker running');
});

/** On a terminal, one line rewritten in place; in logs, a plain line per KPI. */
function progressReporter(runtime: Runtime): (progress: Progress) => void {
  const line = (p: Progress) =>
    `rebuild: ${p.done}/${p.total} KPIs, ${p.values.toLocaleString('en')} values, ${p.seconds.toFixed(1)} s, ${Math.round(p.values / Math.max(p.seconds, 0.001)).toLocaleString('en')} values/s`;
  if (process.stderr.isTTY) {
    return (p) => process.stderr.write(`\r${line(p)}${p.done === p.total ? '\n' : ''}`);
  }
  return (p) => runtime.log.info({ done: p.done, total: p.total, values: p.values, seconds: p.seconds }, line(p));
}
