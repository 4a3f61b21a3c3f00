export const WRITE_SIDE = Symbol('WRITE_SIDE');
