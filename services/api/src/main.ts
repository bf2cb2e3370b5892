import { loadConfig } from '@kpi/config';
import { createRuntime, runMain, stopAll, stopOnSignals } from '@kpi/runtime';
import { startApiRole } from './role.ts';

// `node services/api`: the API role alone, against external Kafka, ClickHouse and Redis.
runMain(async () => {
  const runtime = await createRuntime(loadConfig());
  const handle = await startApiRole(runtime);
  stopOnSignals(runtime.log, () => stopAll(runtime, [handle]), runtime.config.shutdown.timeoutMs);
  runtime.log.info({ url: handle.url, ...(handle.generatedToken ? { token: handle.generatedToken } : {}) }, 'api listening');
});
