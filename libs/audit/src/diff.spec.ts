import { describe, expect, it } from '@jest/globals';
import { diffValues } from './diff';

describe('diffValues', () => {
  it('lists each differing leaf with its path, whatever the key order', () => {
    expect(diffValues({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 3] }, a: 1 })).toEqual([{ field: 'b.c.1', expected: 2, found: 3 }]);
    expect(diffValues({ a: 1 }, { a: 1, extra: true })).toEqual([{ field: 'extra', expected: undefined, found: true }]);
    expect(diffValues('VIP', 'MIDDLE', 'data.to')).toEqual([{ field: 'data.to', expected: 'VIP', found: 'MIDDLE' }]);
    expect(diffValues({ a: [1] }, { a: [1] })).toEqual([]);
  });
});
