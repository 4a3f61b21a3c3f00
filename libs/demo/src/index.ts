export * from './random';
export * from './calendar';
export * from './names';
export * from './history';
export * from './ndjson';
export * from './cdnow';
export * from './load-demo';
