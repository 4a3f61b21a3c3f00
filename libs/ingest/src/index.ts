export * from './customer-writer';
export * from './customers';
export * from './ingest-pipeline';
export * from './ndjson';
export * from './period-registry';
export * from './quarantine';
export * from './write-side';
export * from './event-ids';
