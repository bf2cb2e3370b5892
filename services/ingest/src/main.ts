import { loadConfig } from '@kpi/config';
import { createRuntime, runMain, stopAll, stopOnSignals } from '@kpi/runtime';
import { startIngestRole } from './role.ts';

// `node services/ingest`: the ingest role alone, against external Kafka, ClickHouse and Redis.
runMain(async () => {
  const runtime = await createRuntime(loadConfig());
  const handle = await startIngestRole(runtime);
  stopOnSignals(runtime.log, () => stopAll(runtime, [handle]), runtime.config.shutdown.timeoutMs);
  runtime.log.info({ brokers: runtime.brokers }, 'ingest running');
});
