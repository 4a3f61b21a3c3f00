export * from './commands';
export * from './queries';
export * from './handlers';
export * from './mask';
export * from './tokens';
export * from './audit';
