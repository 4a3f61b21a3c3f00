export * from './diff';
export * from './explain';
export * from './rederive';
export * from './verify';
export * from './what-if';
