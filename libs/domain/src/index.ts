export * from './calendar';
export * from './policy';
export * from './id-registry';
export * from './customer/state';
export * from './customer/commands';
export * from './customer/evolve';
export * from './customer/risk';
export * from './customer/decide';
