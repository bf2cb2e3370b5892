export { createKafka, createProducer, ensureTopics, kafkaReachable, consumerGroupLag, isKafkaUnavailable } from './kafka.ts';
export { startBatchConsumer, type BatchConsumer, type BatchConsumerOptions, type PartitionBatch } from './batch-consumer.ts';
export { produceEvents, type Topics } from './produce.ts';
