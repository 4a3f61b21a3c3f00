/**
 * MongoDB's sort order for the values the port stores, used by the memory adapter: null and missing first,
 * then numbers, strings (by Unicode code point, like MongoDB's binary comparison of UTF-8), objects, arrays,
 * booleans. Objects and arrays of the same type compare equal here (the port does not sort on them).
 */
import type { Sort } from './port';

function rank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
    case 'object':
      if (Array.isArray(v)) return 5;
      if (v instanceof Date) return 9;
      return 4;
    default:
      return 10;
  }
}

/** Code-point order (UTF-16 code-unit order differs only where surrogate pairs meet U+E000..U+FFFF). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2: {
      const x = a as number;
      const y = b as number;
      if (x < y) return -1;
      if (x > y) return 1;
      // NaN sorts before every other number, as in MongoDB.
      const nx = x !== x;
      const ny = y !== y;
      return nx === ny ? 0 : nx ? -1 : 1;
    }
    case 3:
      return compareStrings(a as string, b as string);
    case 8:
      return a === b ? 0 : a ? 1 : -1;
    case 9:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    default:
      return 0;
  }
}

/** Resolves a dotted path through nested objects; undefined when missing or when it crosses an array. */
export function resolvePath(doc: unknown, path: readonly string[]): unknown {
  let v = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export interface SortKey {
  path: readonly string[];
  dir: 1 | -1;
}

/** The sort keys with the `_id` ascending tie-break appended (unless `_id` is already a key). */
export function sortKeys(sort: Sort | undefined): SortKey[] {
  const keys: SortKey[] = [];
  let hasId = false;
  for (const [field, dir] of Object.entries(sort ?? {})) {
    keys.push({ path: field.split('.'), dir });
    if (field === '_id') {
      hasId = true;
      break; // _id is unique: later keys can never matter
    }
  }
  if (!hasId) keys.push({ path: ['_id'], dir: 1 });
  return keys;
}
