export * from './port';
export { UnsupportedQueryError } from './subset';
export * from './memory-read-model';
export * from './mongo-read-model';
