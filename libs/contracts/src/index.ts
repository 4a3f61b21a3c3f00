export * from './upstream';
export * from './validate';
export * from './recorded';
export * from './instant';
export * from './uuid';
