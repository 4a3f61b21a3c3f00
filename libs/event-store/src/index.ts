export * from './port';
export * from './sqlite-event-store';
