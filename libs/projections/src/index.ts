export * from './customer-view';
export * from './customer-queries';
