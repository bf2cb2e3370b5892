import { loadConfig } from '@kpi/config';
import { createRuntime, runMain, stopAll, stopOnSignals } from '@kpi/runtime';
import { rebuildAll, startWorkerRole } from './role.ts';

// `node services/worker`: the worker role alone; `node services/worker --rebuild` recomputes every KPI and exits.
runMain(async () => {
  const runtime = await createRuntime(loadConfig());
  if (process.argv.includes('--rebuild')) {
    const started = Date.now();
    const written = await rebuildAll(runtime.storage, new Date(), (batch) => runtime.log.info(batch, 'rebuild: values stored'));
    // API replicas cache answers under the values version: a rebuild changes the values.
    await runtime.queues.valuesChanged().catch((error: Error) => {
      throw new Error(`every KPI value is rebuilt, but API caches could not be told (${error.message}); they may serve older values until the next recompute`);
    });
    runtime.log.info({ written, seconds: (Date.now() - started) / 1000 }, 'rebuilt every KPI value');
    await runtime.close();
    return;
  }
  const handle = await startWorkerRole(runtime);
  stopOnSignals(runtime.log, () => stopAll(runtime, [handle]), runtime.config.shutdown.timeoutMs);
  runtime.log.info('worker running');
});
