import { loadConfig } from '@kpi/config';
import { createRuntime, runMain, stopAll, stopOnSignals } from '@kpi/runtime';
import { rebuildAll, startWorkerRole } from './role.ts';

// `node services/worker`: the worker role alone; `node services/worker --rebuild` recomputes every KPI and exits.
runMain(async () => {
  const runtime = await createRuntime(loadConfig());
  if (process.argv.includes('--rebuild')) {
    const started = Date.now();
    const written = await rebuildAll(runtime.storage);
    runtime.log.info({ written, seconds: (Date.now() - started) / 1000 }, 'rebuilt every KPI value');
    await runtime.close();
    return;
  }
  const handle = await startWorkerRole(runtime);
  stopOnSignals(runtime.log, () => stopAll(runtime, [handle]), runtime.config.shutdown.timeoutMs);
  runtime.log.info('worker running');
});
