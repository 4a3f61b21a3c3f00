/**
 * The query language the port promises (see port.ts), checked up front so that a query outside it fails
 * the same way on every adapter, in memory as on MongoDB / FerretDB, instead of working in one and not in
 * the other. Cheap: a walk over the (small) filter or pipeline, never over documents.
 */
import type { Doc, Filter, FindOptions, IndexSpec, PipelineStage, Sort } from './port';

export class UnsupportedQueryError extends Error {
  override readonly name = 'UnsupportedQueryError';
}

const FIELD_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);
const STAGES = new Set([
  '$match',
  '$group',
  '$sort',
  '$limit',
  '$skip',
  '$project',
  '$set',
  '$addFields',
  '$unset',
  '$unwind',
  '$count',
]);
function fail(message: string): never {
  throw new UnsupportedQueryError(`${message} (outside the read-model port's query subset; see libs/read-model/src/port.ts)`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  // Object.prototype of any realm (v8.deserialize and vm contexts such as jest's have their own).
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** A value the port compares: string, finite number, boolean or null. */
export function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function checkPath(path: string, where: string): void {
  if (path === '' || path.startsWith('$') || path.split('.').some((p) => p === '')) fail(`invalid field path '${path}' in ${where}`);
}

export function assertFilter(filter: unknown, where = 'filter'): asserts filter is Filter {
  if (!isPlainObject(filter)) fail(`${where} must be an object`);
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond) || cond.length === 0) fail(`${key} needs a non-empty array of filters`);
      for (const sub of cond) assertFilter(sub, `${where}.${key}`);
      continue;
    }
    if (key.startsWith('$')) fail(`query operator ${key} at the top level of a ${where}`);
    checkPath(key, where);
    if (isScalar(cond)) continue;
    if (!isPlainObject(cond)) fail(`${where}.${key}: equality is on scalars only (string, number, boolean, null)`);
    const ops = Object.keys(cond);
    if (ops.length === 0 || !ops.every((op) => op.startsWith('$'))) {
      fail(`${where}.${key}: equality on embedded documents is not supported; use dotted paths`);
    }
    for (const op of ops) {
      const arg = cond[op];
      if (!FIELD_OPERATORS.has(op)) fail(`query operator ${op} in ${where}.${key}`);
      if (op === '$in' || op === '$nin') {
        if (!Array.isArray(arg) || !arg.every(isScalar)) fail(`${where}.${key}.${op} needs an array of scalars`);
      } else if (op === '$exists') {
        if (typeof arg !== 'boolean') fail(`${where}.${key}.$exists needs true or false`);
      } else if (!isScalar(arg)) {
        fail(`${where}.${key}.${op} needs a scalar`);
      }
    }
  }
}

export function assertSort(sort: unknown, where = 'sort'): asserts sort is Sort {
  if (!isPlainObject(sort)) fail(`${where} must be an object`);
  for (const [path, dir] of Object.entries(sort)) {
    checkPath(path, where);
    if (dir !== 1 && dir !== -1) fail(`${where}.${path} must be 1 or -1`);
  }
}

export function assertProjection(projection: unknown): asserts projection is Record<string, 0 | 1> {
  if (!isPlainObject(projection)) fail('projection must be an object');
  let include = false;
  let exclude = false;
  for (const [path, v] of Object.entries(projection)) {
    checkPath(path, 'projection');
    if (v !== 0 && v !== 1) fail(`projection.${path} must be 0 or 1`);
    if (path === '_id') continue;
    if (v === 1) include = true;
    else exclude = true;
  }
  if (include && exclude) fail('a projection either includes or excludes fields (only _id: 0 may be mixed in)');
}

export function assertFindOptions(options: FindOptions): void {
  if (options.sort !== undefined) assertSort(options.sort);
  if (options.projection !== undefined) assertProjection(options.projection);
  for (const k of ['skip', 'limit'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) fail(`${k} must be a non-negative integer`);
  }
}

/** `'$a.b'`: a field path (no variables). */
function isFieldPath(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('$') && !v.startsWith('$$');
}

function assertFieldPath(v: string, where: string): void {
  if (v.startsWith('$$')) fail(`variable ${v} in ${where}`);
  checkPath(v.slice(1), where);
}

/** The argument of `$sum`: a number, a field path, or a non-empty array of those. */
function assertSumArgument(arg: unknown, where: string): void {
  const items: unknown[] = Array.isArray(arg) ? arg : [arg];
  if (items.length === 0) fail(`${where} needs a number, a field path or an array of those`);
  for (const item of items) {
    if (typeof item === 'number' && Number.isFinite(item)) continue;
    if (typeof item === 'string' && item.startsWith('$')) {
      assertFieldPath(item, where);
      continue;
    }
    fail(`${where} needs a number, a field path or an array of those`);
  }
}

/** `{ $sum: ... }`, the one computed value FerretDB v1 evaluates in $project / $set / $addFields. */
function isSum(v: unknown): v is { $sum: unknown } {
  return isPlainObject(v) && Object.keys(v).length === 1 && '$sum' in v;
}

/**
 * A constant for $set / $addFields: a scalar (a string must not start with '$': FerretDB v1 would store a
 * field path as a literal string while MongoDB evaluates it), an array of scalars, or an object of constants.
 */
function assertConstant(v: unknown, where: string): void {
  if (typeof v === 'string') {
    if (v.startsWith('$')) {
      fail(`${where}: field paths are not evaluated in $project/$set/$addFields (use { $sum: '${v}' } for a number)`);
    }
    return;
  }
  if (isScalar(v)) return;
  if (Array.isArray(v)) {
    if (!v.every(isScalar)) fail(`${where}: an array constant holds scalars only`);
    v.forEach((x, i) => assertConstant(x, `${where}[${i}]`));
    return;
  }
  if (!isPlainObject(v)) fail(`unsupported value in ${where}`);
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) fail(`expression operator ${k} in ${where} (only { $sum } is computed)`);
    assertConstant(x, `${where}.${k}`);
  }
}

/** A $group key: null, a constant scalar, a field path, or an object of those (one level). */
function assertGroupKey(key: unknown, where: string): void {
  if (isFieldPath(key)) return assertFieldPath(key, where);
  if (isScalar(key)) return;
  if (!isPlainObject(key) || Object.keys(key).length === 0) fail(`${where} must be null, a field path or an object of field paths`);
  for (const [k, v] of Object.entries(key)) {
    if (k.startsWith('$') || k.includes('.')) fail(`${where}: invalid key ${k}`);
    if (isFieldPath(v)) assertFieldPath(v, `${where}.${k}`);
    else if (!isScalar(v)) fail(`${where}.${k} must be a field path or a constant`);
  }
}

function nonNegativeInt(v: unknown, where: string): void {
  if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) fail(`${where} needs a non-negative integer`);
}

export function assertPipeline(pipeline: unknown): asserts pipeline is PipelineStage[] {
  if (!Array.isArray(pipeline)) fail('a pipeline is an array of stages');
  /** Whether the documents at this point still have their `_id` (FerretDB v1 crashes projecting without). */
  let hasId = true;
  pipeline.forEach((stage: unknown, i) => {
    const where = `pipeline[${i}]`;
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) fail(`${where} must be an object with exactly one stage`);
    const [name] = Object.keys(stage);
    const arg = stage[name];
    if (!STAGES.has(name)) fail(`aggregation stage ${name}`);
    if ((name === '$project' || name === '$unset') && !hasId) {
      fail(`${where}: ${name} after _id was removed (by _id: 0, $unset '_id' or $count); remove _id in the last projection`);
    }
    if (name === '$count') hasId = false;
    if (name === '$group') hasId = true;
    if (name === '$project' && isPlainObject(arg) && (arg._id === 0 || arg._id === false)) hasId = false;
    if (name === '$unset' && (arg === '_id' || (Array.isArray(arg) && arg.includes('_id')))) hasId = false;
    switch (name) {
      case '$match':
        assertFilter(arg, `${where}.$match`);
        break;
      case '$sort':
        assertSort(arg, `${where}.$sort`);
        if (Object.keys(arg as object).length === 0) fail(`${where}.$sort needs at least one key`);
        break;
      case '$skip':
        nonNegativeInt(arg, `${where}.$skip`);
        break;
      case '$limit':
        nonNegativeInt(arg, `${where}.$limit`);
        if (arg === 0) fail(`${where}.$limit must be positive`);
        break;
      case '$count':
        if (typeof arg !== 'string' || arg === '' || arg.startsWith('$') || arg.includes('.')) {
          fail(`${where}.$count needs a plain field name`);
        }
        break;
      case '$unset': {
        const fields: unknown[] = Array.isArray(arg) ? arg : [arg];
        if (fields.length === 0) fail(`${where}.$unset needs at least one field`);
        for (const f of fields) {
          if (typeof f !== 'string') fail(`${where}.$unset takes field names`);
          checkPath(f, `${where}.$unset`);
        }
        break;
      }
      case '$unwind':
        if (typeof arg !== 'string' || !isFieldPath(arg)) {
          fail(`${where}.$unwind takes a field path string like '$tags' (the document form is not supported)`);
        }
        assertFieldPath(arg, `${where}.$unwind`);
        break;
      case '$group': {
        if (!isPlainObject(arg) || !('_id' in arg)) fail(`${where}.$group needs an _id`);
        assertGroupKey(arg._id, `${where}.$group._id`);
        const fields = Object.keys(arg).filter((f) => f !== '_id');
        // FerretDB v1 computes only the first accumulator of a $group (the others come back as 0).
        if (fields.length !== 1) fail(`${where}.$group needs exactly one accumulator besides _id (run one pipeline per figure)`);
        const field = fields[0];
        const acc = arg[field];
        if (field.startsWith('$') || field.includes('.')) fail(`${where}.$group: invalid field name ${field}`);
        if (!isPlainObject(acc) || Object.keys(acc).length !== 1) fail(`${where}.$group.${field} needs one accumulator`);
        if ('$count' in acc) {
          if (!isPlainObject(acc.$count) || Object.keys(acc.$count).length > 0) fail(`${where}.$group.${field}.$count takes {}`);
        } else if ('$sum' in acc) {
          assertSumArgument(acc.$sum, `${where}.$group.${field}.$sum`);
        } else {
          fail(`accumulator ${Object.keys(acc)[0]} in ${where}.$group.${field} (only $sum and $count)`);
        }
        break;
      }
      case '$project': {
        if (!isPlainObject(arg) || Object.keys(arg).length === 0) fail(`${where}.$project needs a non-empty object`);
        let include = false;
        let exclude = false;
        for (const [field, v] of Object.entries(arg)) {
          checkPath(field, `${where}.$project`);
          if (isSum(v)) {
            if (field.includes('.')) fail(`${where}.$project: a computed field is a top-level name, not ${field}`);
            assertSumArgument(v.$sum, `${where}.$project.${field}.$sum`);
            include = true;
          } else if (v === 1 || v === true) {
            if (field !== '_id') include = true;
          } else if (v === 0 || v === false) {
            if (field !== '_id') exclude = true;
          } else {
            fail(`${where}.$project.${field} must be 0, 1 or { $sum: ... } (field paths and constants are not evaluated alike everywhere)`);
          }
        }
        if (include && exclude) fail(`${where}.$project either includes or excludes fields (only _id: 0 may be mixed in)`);
        break;
      }
      default: {
        // $set / $addFields
        if (!isPlainObject(arg) || Object.keys(arg).length === 0) fail(`${where}.${name} needs a non-empty object`);
        for (const [field, v] of Object.entries(arg)) {
          checkPath(field, `${where}.${name}`);
          if (field.includes('.')) fail(`${where}.${name}: ${field}: FerretDB v1 would create a field named '${field}'; set top-level fields`);
          if (isSum(v)) assertSumArgument(v.$sum, `${where}.${name}.${field}.$sum`);
          else assertConstant(v, `${where}.${name}.${field}`);
        }
      }
    }
  });
}

export function assertCollectionName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$/.test(name) || name.startsWith('system.')) {
    throw new TypeError(
      `invalid collection name '${String(name)}': 1-120 chars of [A-Za-z0-9_.-], not starting with '_' (reserved) or 'system.'`,
    );
  }
}

export function assertIndexSpec(spec: IndexSpec): void {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) throw new TypeError('an index spec needs at least one field');
  for (const [path, dir] of Object.entries(spec)) {
    checkPath(path, 'index spec');
    if (dir !== 1 && dir !== -1) throw new TypeError(`index spec ${path} must be 1 or -1`);
  }
}

export function assertDocId(doc: Doc, collection: string): void {
  if (typeof doc?._id !== 'string' || doc._id === '') {
    throw new TypeError(`a document written to ${collection} needs a non-empty string _id`);
  }
}
