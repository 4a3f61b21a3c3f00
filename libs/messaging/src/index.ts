export * from './kafka';
export * from './kafka-ingest-consumer';
export * from './kafka-upstream-producer';
export * from './topics';
