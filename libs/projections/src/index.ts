export * from './customer-view';
export * from './customer-queries';
export * from './projection';
export * from './projector';
export * from './queries';
export * from './read-side';
export * from './read-side-reader';
export * from './views';
