/** Injection tokens of the two sides the handlers work on. */
export const WRITE_SIDE = Symbol('WRITE_SIDE');
export const READ_SIDE = Symbol('READ_SIDE');
