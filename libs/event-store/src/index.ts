export * from './port';
export * from './derived-id';
export * from './sqlite-event-store';
export * from './eventstoredb-event-store';
export * from './hash-chain';
