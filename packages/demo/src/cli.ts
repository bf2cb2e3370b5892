import { parseArgs } from 'node:util';
import { loadConfig } from '@kpi/config';
import { createKafka, createProducer } from '@kpi/bus';
import { DEMO_CUSTOM_KPI, demoHistory, produceEvents, startTrickle } from './index.ts';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '42' }, trickle: { type: 'boolean', default: false } } });
const config = loadConfig();
if (!config.kafka.brokers) throw new Error('set KAFKA_BROKERS (the start command seeds its local broker itself)');
const seed = Number(values.seed);
const producer = await createProducer(createKafka(config.kafka, config.kafka.brokers));
const events = demoHistory(seed);
await produceEvents(producer, config.kafka.topics, events);
process.stdout.write(`produced ${events.length} demo events (seed ${seed})\n`);
// Ingestion accepts the demo's custom events once its custom KPI is defined there (the start command does it).
process.stdout.write(`its ${DEMO_CUSTOM_KPI.source} events count once the custom KPI ${DEMO_CUSTOM_KPI.id} is defined: PUT /v1/kpis/${DEMO_CUSTOM_KPI.id} with ${JSON.stringify(DEMO_CUSTOM_KPI)}\n`);
if (values.trickle) {
  startTrickle({ producer, topics: config.kafka.topics, seed });
  setInterval(() => undefined, 1 << 30);
} else {
  await producer.disconnect();
}
