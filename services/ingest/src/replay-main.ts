import { loadConfig } from '@kpi/config';
import { createRuntime, runMain } from '@kpi/runtime';
import { parseReplayArgs, replayTopic } from './replay.ts';

// Backfills: re-read a topic into ClickHouse (see replay.ts). Exits when the topic's end is reached.
runMain(async () => {
  const request = parseReplayArgs(process.argv.slice(2));
  const runtime = await createRuntime(loadConfig());
  const started = Date.now();
  const { messages } = await replayTopic(runtime, request);
  runtime.log.info({ topic: request.topic, messages, seconds: (Date.now() - started) / 1000 }, 'replay done');
  await runtime.close();
});
