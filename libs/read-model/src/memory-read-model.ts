/**
 * The embedded read-model store: every collection in memory, queried with mingo (the MongoDB query
 * language for JavaScript objects), narrowed first by in-memory hash indexes.
 *
 * Documents are copied and deep-frozen once, when they are committed (frozen in place, not copied, when
 * their maker handed them over: `handOver`); reads hand out those frozen
 * documents themselves, without copying (measured on 100k customer-like documents: a copy+freeze costs
 * ~0.5 µs per write, a structuredClone ~2.7 µs per read, JSON round-trip ~3.6 µs). A caller that wants
 * to change a result copies it first (`{ ...doc }`); writing to a frozen object throws in strict-mode
 * code. mingo edits its input in $project / $set / $addFields / $unset and in find projections, so those
 * run on thawed copies of the (already filtered) documents.
 *
 * Indexes: `ensureIndexes` builds a hash index on the FIRST field of each spec (`{ managerId: 1, tier: 1 }`
 * hashes `managerId`), maintained on every commit (O(1) per index and write: buckets are arrays with
 * swap-remove, positions kept in the entry). Each entry also keeps the key of every field named in any
 * spec (`tier` above). A query whose filter has an equality or `$in` on a hashed field (top level or
 * inside a top-level `$and`), or on `_id`, scans only the matching buckets; the other equality
 * constraints are checked first against the stored keys, and mingo then tests the whole filter on what is
 * left, so indexes never change an answer. Values the hash cannot key (arrays, objects, paths that cross
 * an array) sit in one bucket that every lookup scans.
 */
import { readFile, rename, writeFile } from 'fs/promises';
import { deserialize, serialize } from 'v8';
import { Aggregator, Query } from 'mingo';
import { compareValues, resolvePath, sortKeys, type SortKey } from './compare';
import type {
  Checkpoint,
  CollectionWrites,
  Doc,
  Filter,
  FindOptions,
  IndexSpec,
  Lease,
  PipelineStage,
  ReadModelStore,
} from './port';
import {
  assertCollectionName,
  assertDocId,
  assertFilter,
  assertFindOptions,
  assertIndexSpec,
  assertPipeline,
  isPlainObject,
  isScalar,
} from './subset';

type Scalar = string | number | boolean | null;
/** Bucket of the documents whose indexed field is missing (matched by equality with null). */
const MISSING = Symbol('missing');
/** Bucket of the documents whose indexed value the hash cannot key: scanned by every lookup. */
const OTHER = Symbol('other');
type IndexKey = Scalar | typeof MISSING | typeof OTHER;

/** The value at `path` as an index key: MISSING, OTHER (array, object, or a path crossing an array) or a scalar. */
function keyAt(doc: Doc, path: readonly string[]): IndexKey {
  let v: unknown = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return MISSING;
    if (Array.isArray(v)) return OTHER;
    v = (v as Record<string, unknown>)[p];
    if (v === undefined) return MISSING;
  }
  return isScalar(v) ? v : OTHER;
}

/**
 * A stored document and its index keys: `keys[j]` is `keyAt(doc, field j)` for every field named in any
 * index spec of the collection (so filters on them are checked without touching the document), and
 * `slots[h]` its position in its bucket of hash index h. A bucket is an array with swap-remove, so index
 * maintenance needs no lookups; replacing a document whose keys did not change only swaps `doc`.
 */
interface Entry {
  doc: Doc;
  keys: IndexKey[];
  slots: number[];
}

/** A hash index on one field: buckets of entries by key. */
class HashIndex {
  readonly buckets = new Map<IndexKey, Entry[]>();

  constructor(
    readonly field: string,
    /** Where this field's key sits in `Entry.keys`. */
    readonly keySlot: number,
    /** Where this index's bucket position sits in `Entry.slots`. */
    private readonly posSlot: number,
  ) {}

  add(e: Entry): void {
    const key = e.keys[this.keySlot];
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = []));
    e.slots[this.posSlot] = bucket.length;
    bucket.push(e);
  }

  /** Takes the entry out of the bucket of its current key (`e.keys` not yet changed). */
  remove(e: Entry): void {
    const key = e.keys[this.keySlot];
    const bucket = this.buckets.get(key)!;
    const last = bucket.pop()!;
    if (last !== e) {
      const slot = e.slots[this.posSlot];
      bucket[slot] = last;
      last.slots[this.posSlot] = slot;
    }
    if (bucket.length === 0) this.buckets.delete(key);
  }

  /** The buckets that can hold a document whose field equals one of `values`. */
  lookup(values: readonly Scalar[]): Entry[][] {
    const keys = new Set<IndexKey>(values);
    if (keys.has(null)) keys.add(MISSING);
    keys.add(OTHER);
    const out: Entry[][] = [];
    for (const k of keys) {
      const b = this.buckets.get(k);
      if (b !== undefined) out.push(b);
    }
    return out;
  }
}

class Collection {
  readonly entries = new Map<string, Entry>();
  /** Every field named in an index spec (their keys are kept in each entry). */
  readonly fields: { field: string; path: string[] }[] = [];
  /** Hash indexes, on the first field of each spec. */
  readonly hashes: HashIndex[] = [];
  readonly specs: IndexSpec[] = [];

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Doc | undefined {
    return this.entries.get(id)?.doc;
  }

  *docs(): IterableIterator<Doc> {
    for (const e of this.entries.values()) yield e.doc;
  }

  private keysOf(doc: Doc): IndexKey[] {
    const keys = new Array<IndexKey>(this.fields.length);
    for (let j = 0; j < this.fields.length; j++) keys[j] = keyAt(doc, this.fields[j].path);
    return keys;
  }

  put(doc: Doc): void {
    const e = this.entries.get(doc._id);
    if (e === undefined) {
      const created: Entry = { doc, keys: this.keysOf(doc), slots: [] };
      this.entries.set(doc._id, created);
      for (const h of this.hashes) h.add(created);
      return;
    }
    e.doc = doc;
    if (this.fields.length === 0) return;
    const keys = this.keysOf(doc);
    const moved = this.hashes.filter((h) => keys[h.keySlot] !== e.keys[h.keySlot]);
    for (const h of moved) h.remove(e);
    e.keys = keys;
    for (const h of moved) h.add(e);
  }

  delete(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.entries.delete(id);
    for (const h of this.hashes) h.remove(e);
  }

  keySlot(field: string): number {
    return this.fields.findIndex((f) => f.field === field);
  }

  hash(field: string): HashIndex | undefined {
    return this.hashes.find((h) => h.field === field);
  }

  addIndex(spec: IndexSpec): void {
    if (!this.specs.some((s) => JSON.stringify(s) === JSON.stringify(spec))) this.specs.push({ ...spec });
    for (const field of Object.keys(spec)) {
      if (field === '_id' || this.keySlot(field) >= 0) continue;
      const path = field.split('.');
      this.fields.push({ field, path });
      for (const e of this.entries.values()) e.keys.push(keyAt(e.doc, path));
    }
    const first = Object.keys(spec)[0];
    if (first === '_id' || this.hash(first) !== undefined) return;
    const h = new HashIndex(first, this.keySlot(first), this.hashes.length);
    for (const e of this.entries.values()) h.add(e);
    this.hashes.push(h);
  }
}

/**
 * A necessary condition for a document to match an equality / `$in` constraint without null: a plain
 * scalar at the path must be one of the values, a missing field fails; anything else (arrays, objects) is
 * left to mingo. Checked before mingo, from the entry's stored keys where the field is indexed.
 */
interface Prefilter {
  slot: number;
  path: string[];
  values: Set<IndexKey>;
}

function passes(e: Entry, checks: readonly Prefilter[]): boolean {
  for (const c of checks) {
    const k = c.slot >= 0 ? e.keys[c.slot] : keyAt(e.doc, c.path);
    if (k !== OTHER && !c.values.has(k)) return false;
  }
  return true;
}

/**
 * True when the filter is only equality / `$in` constraints, without null, on fields whose key every entry
 * of the collection keeps (fields named in an index spec): `decide` then answers from the keys.
 */
function keyedOnly(filter: Filter, coll: Collection): boolean {
  for (const field in filter) {
    if (field.startsWith('$') || coll.keySlot(field) < 0) return false;
    const cond = filter[field];
    if (cond === null) return false;
    if (isScalar(cond)) continue;
    if (!isPlainObject(cond)) return false;
    const ops = Object.keys(cond);
    if (ops.length !== 1) return false;
    if (ops[0] === '$eq') {
      if (cond.$eq === null || !isScalar(cond.$eq)) return false;
    } else if (ops[0] === '$in') {
      if (!Array.isArray(cond.$in) || !cond.$in.every((v) => v !== null && isScalar(v))) return false;
    } else return false;
  }
  return true;
}

/**
 * A keyed-only filter (see keyedOnly) against an entry's stored keys, one check per constraint: -1 no
 * match, 1 a match, 0 mingo must judge (a value the hash cannot key). A missing field matches no value.
 */
function decide(e: Entry, checks: readonly Prefilter[]): -1 | 0 | 1 {
  let sure: 0 | 1 = 1;
  for (const c of checks) {
    const k = e.keys[c.slot];
    if (k === OTHER) sure = 0;
    else if (!c.values.has(k)) return -1;
  }
  return sure;
}

/** Equality constraints usable by an index: `{ f: v }`, `{ f: { $eq: v } }`, `{ f: { $in: [...] } }`, also inside `$and`. */
function equalityConstraints(filter: Filter, out: Map<string, Scalar[]>): void {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      for (const sub of cond as Filter[]) equalityConstraints(sub, out);
      continue;
    }
    if (key.startsWith('$')) continue;
    let values: Scalar[] | undefined;
    if (isScalar(cond)) values = [cond];
    else if (isPlainObject(cond)) {
      if ('$eq' in cond) values = [cond.$eq as Scalar];
      else if ('$in' in cond) values = cond.$in as Scalar[];
    }
    if (values === undefined) continue;
    const prev = out.get(key);
    // Two constraints on one field: keep the narrower (the filter still tests both).
    if (prev === undefined || values.length < prev.length) out.set(key, values);
  }
}

/** True for a value stored as it is (null, a string, a boolean, a finite number), false for an object; throws for anything else. */
function isStorableScalar(value: unknown, key: string | number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`field '${key}': ${value} cannot be stored (finite numbers only)`);
      return true;
    case 'object':
      return false;
    default:
      throw new TypeError(`field '${key}': a ${typeof value} cannot be stored (JSON-like values only)`);
  }
}

/**
 * Copies a document into a deep-frozen, JSON-like value (undefined properties dropped, as MongoDB's
 * ignoreUndefined). `key` names the value in error messages (no path is built on the hot path).
 */
function freezeCopy(value: unknown, key: string | number): unknown {
  if (isStorableScalar(value, key)) return value;
  if (Array.isArray(value)) {
    const a = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      // FerretDB v1 refuses arrays directly inside arrays; the port leaves them out.
      if (Array.isArray(v)) throw new TypeError(`field '${key}': an array directly inside an array cannot be stored`);
      a[i] = v === undefined ? null : freezeCopy(v, key);
    }
    return Object.freeze(a);
  }
  if (!isPlainObject(value)) {
    if (Object.prototype.toString.call(value) === '[object Date]') return Object.freeze(new Date((value as Date).getTime()));
    throw new TypeError(`field '${key}': only plain objects, arrays and scalars can be stored`);
  }
  const o: Record<string, unknown> = {};
  for (const k in value) {
    const v = value[k];
    if (v === undefined) continue;
    if (k.charCodeAt(0) === 36 /* $ */ || k.includes('.')) throw new TypeError(`field name '${k}' (no '$' prefix, no '.')`);
    o[k] = freezeCopy(v, k);
  }
  return Object.freeze(o);
}

/**
 * freezeCopy without the copy, for a document handed over by its maker: the same checks (and errors), then
 * every object in it frozen where it is. False when it holds something a copy would change (an undefined
 * to drop, a Date): the caller copies then (what this froze already stays frozen: the maker gave it up).
 */
function freezeInPlace(value: unknown, key: string | number): boolean {
  if (isStorableScalar(value, key)) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (Array.isArray(v)) throw new TypeError(`field '${key}': an array directly inside an array cannot be stored`);
      if (v === undefined || !freezeInPlace(v, key)) return false;
    }
    Object.freeze(value);
    return true;
  }
  if (!isPlainObject(value)) {
    if (Object.prototype.toString.call(value) === '[object Date]') return false;
    throw new TypeError(`field '${key}': only plain objects, arrays and scalars can be stored`);
  }
  for (const k in value) {
    const v = value[k];
    if (k.charCodeAt(0) === 36 /* $ */ || k.includes('.')) throw new TypeError(`field name '${k}' (no '$' prefix, no '.')`);
    if (v === undefined || !freezeInPlace(v, k)) return false;
  }
  Object.freeze(value);
  return true;
}

/**
 * Documents whose maker gave them to the store (`handOver`). Only the embedded store looks: the others
 * serialize what they are given anyway.
 */
const handedOver = new WeakSet<object>();

/**
 * Gives a document to the store it is committed to: the maker promises never to change it, nor anything
 * in it, from now on (other documents may share its nested objects, read-only), so the embedded store
 * freezes it in place instead of storing a frozen copy (a rebuild writes hundreds of thousands of
 * documents: the copies were garbage and doubled what a view keeps). Commit checks it as any document.
 */
export function handOver<T extends Doc>(doc: T): T {
  handedOver.add(doc);
  return doc;
}

/** A committed document: its frozen copy, or itself frozen when handed over (errors name the collection and _id). */
function storedCopy(doc: Doc, collection: string): Doc {
  try {
    if (handedOver.has(doc)) {
      handedOver.delete(doc);
      if (freezeInPlace(doc, '_id')) return doc;
    }
    return freezeCopy(doc, '_id') as Doc;
  } catch (e) {
    throw new TypeError(`${collection}/${doc._id}: ${(e as Error).message}`, { cause: e });
  }
}

/** A mutable deep copy of a stored (frozen) document, for mingo stages that write into their input. */
function thaw<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(thaw) as T;
  if (Object.prototype.toString.call(value) === '[object Date]') return new Date((value as unknown as Date).getTime()) as T;
  const o: Record<string, unknown> = {};
  for (const k in value) o[k] = thaw((value as Record<string, unknown>)[k]);
  return o as T;
}

/**
 * mingo (in its default CLONE_OFF mode) edits the documents it is given in these stages, nested objects
 * included: such a pipeline works on thawed copies, never on the stored documents.
 */
const WRITING_STAGES = new Set(['$project', '$set', '$addFields', '$unset']);

/**
 * Two spellings mingo 7 reads differently from MongoDB, rewritten into their MongoDB-defined equivalents:
 * - `{ $count: f }` is `$group` + `$project`, which gives no document for no input (mingo's own $count
 *   gives `{ f: 0 }`);
 * - the expression `{ $sum: '$x' }` (in $project / $set / $addFields) is `{ $sum: ['$x'] }` for a number
 *   (mingo wants the array form).
 */
function forMingo(pipeline: PipelineStage[]): PipelineStage[] {
  return pipeline.flatMap((stage): PipelineStage[] => {
    const [name] = Object.keys(stage);
    if (name === '$count') return [{ $group: { _id: null, [stage.$count as string]: { $sum: 1 } } }, { $project: { _id: 0 } }];
    if (!WRITING_STAGES.has(name) || name === '$unset') return [stage];
    const fields: Record<string, unknown> = {};
    for (const [field, v] of Object.entries(stage[name] as Record<string, unknown>)) {
      fields[field] = isPlainObject(v) && '$sum' in v && !Array.isArray(v.$sum) ? { $sum: [v.$sum] } : v;
    }
    return [{ [name]: fields }];
  });
}

interface Decorated {
  doc: Doc;
  keys: unknown[];
}

function sortPage(docs: Doc[], keys: SortKey[], skip: number, limit: number): Doc[] {
  const cmp = (a: Decorated, b: Decorated): number => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return keys[i].dir === 1 ? c : -c;
    }
    return 0;
  };
  const decorate = (doc: Doc): Decorated => ({ doc, keys: keys.map((k) => resolvePath(doc, k.path)) });
  const k = limit > 0 ? skip + limit : Infinity;
  let sorted: Decorated[];
  if (k * 4 < docs.length) {
    // Top-k selection: one comparison for most documents, no full sort.
    sorted = [];
    for (const doc of docs) {
      const d = decorate(doc);
      if (sorted.length === k && cmp(d, sorted[k - 1]) >= 0) continue;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cmp(sorted[mid], d) <= 0) lo = mid + 1;
        else hi = mid;
      }
      sorted.splice(lo, 0, d);
      if (sorted.length > k) sorted.pop();
    }
  } else {
    sorted = docs.map(decorate).sort(cmp);
  }
  const end = limit > 0 ? skip + limit : sorted.length;
  return sorted.slice(skip, end).map((d) => d.doc);
}

interface SnapshotV1 {
  format: 'crm-read-model-snapshot';
  version: 1;
  collections: { name: string; indexes: IndexSpec[]; docs: Doc[] }[];
  checkpoints: Checkpoint[];
}

export class MemoryReadModelStore implements ReadModelStore {
  private readonly collections = new Map<string, Collection>();
  private readonly checkpoints = new Map<string, Checkpoint>();
  private readonly leases = new Map<string, Lease>();
  private closed = false;

  /** Reloads a store saved by `snapshot(file)`. */
  static async restore(file: string): Promise<MemoryReadModelStore> {
    const data = deserialize(await readFile(file)) as SnapshotV1;
    if (data?.format !== 'crm-read-model-snapshot' || data.version !== 1) {
      throw new Error(`${file} is not a read-model snapshot (version 1)`);
    }
    const store = new MemoryReadModelStore();
    for (const c of data.collections) {
      const coll = new Collection();
      for (const doc of c.docs) coll.put(storedCopy(doc, c.name));
      for (const spec of c.indexes) coll.addIndex(spec);
      store.collections.set(c.name, coll);
    }
    for (const cp of data.checkpoints) store.checkpoints.set(cp.projection, { ...cp });
    return store;
  }

  /** Writes every collection (documents and index specs) and checkpoint to `file` (v8 serialization, atomic rename). */
  async snapshot(file: string): Promise<void> {
    this.assertOpen();
    const data: SnapshotV1 = {
      format: 'crm-read-model-snapshot',
      version: 1,
      collections: [...this.collections].map(([name, c]) => ({ name, indexes: c.specs, docs: [...c.docs()] })),
      checkpoints: [...this.checkpoints.values()],
    };
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, serialize(data));
    await rename(tmp, file);
  }

  async commit(projection: string, batch: CollectionWrites[], position: bigint): Promise<void> {
    this.assertOpen();
    if (typeof position !== 'bigint' || position < 0n) throw new TypeError('position must be a non-negative bigint');
    // Validate and copy everything first: a bad document fails the whole commit and changes nothing.
    const prepared = batch.map(({ collection, writes }) => {
      assertCollectionName(collection);
      return {
        collection,
        writes: writes.map((w): Doc | string => {
          if ('put' in w) {
            assertDocId(w.put, collection);
            return storedCopy(w.put, collection);
          }
          if (typeof w.delete !== 'string') throw new TypeError(`a delete from ${collection} needs a string _id`);
          return w.delete;
        }),
      };
    });
    for (const { collection, writes } of prepared) {
      let coll = this.collections.get(collection);
      for (const w of writes) {
        if (typeof w === 'string') coll?.delete(w);
        else (coll ??= this.create(collection)).put(w);
      }
    }
    this.checkpoints.set(projection, { projection, position: position.toString(), updatedAt: new Date().toISOString() });
  }

  async checkpoint(projection: string): Promise<Checkpoint | null> {
    this.assertOpen();
    const cp = this.checkpoints.get(projection);
    return cp === undefined ? null : { ...cp };
  }

  async resetCheckpoint(projection: string): Promise<void> {
    this.assertOpen();
    this.checkpoints.delete(projection);
  }

  async findById(collection: string, id: string): Promise<Doc | null> {
    this.assertOpen();
    return this.collections.get(collection)?.get(id) ?? null;
  }

  async findByIds(collection: string, ids: readonly string[]): Promise<Doc[]> {
    this.assertOpen();
    const coll = this.collections.get(collection);
    if (coll === undefined) return [];
    const out: Doc[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const doc = coll.get(id);
      if (doc !== undefined && !seen.has(id)) {
        seen.add(id);
        out.push(doc);
      }
    }
    return out;
  }

  async find(collection: string, filter: Filter = {}, options: FindOptions = {}): Promise<Doc[]> {
    this.assertOpen();
    assertFilter(filter);
    assertFindOptions(options);
    const coll = this.collections.get(collection);
    if (coll === undefined) return [];
    const page = sortPage(this.select(coll, filter), sortKeys(options.sort), options.skip ?? 0, options.limit ?? 0);
    if (options.projection === undefined || Object.keys(options.projection).length === 0) return page;
    return new Query({}).find<Doc>(page.map(thaw), options.projection).all();
  }

  async count(collection: string, filter: Filter = {}): Promise<number> {
    this.assertOpen();
    assertFilter(filter);
    const coll = this.collections.get(collection);
    if (coll === undefined) return 0;
    if (Object.keys(filter).length === 0) return coll.size;
    return this.select(coll, filter).length;
  }

  async aggregate(collection: string, pipeline: PipelineStage[]): Promise<Record<string, unknown>[]> {
    this.assertOpen();
    assertPipeline(pipeline);
    const coll = this.collections.get(collection);
    let input: Doc[];
    let rest = pipeline;
    if (coll === undefined) input = [];
    else if (pipeline.length > 0 && '$match' in pipeline[0]) {
      input = this.select(coll, pipeline[0].$match as Filter); // uses the indexes
      rest = pipeline.slice(1);
    } else input = [...coll.docs()];
    if (rest.length === 0) return input;
    if (rest.some((stage) => WRITING_STAGES.has(Object.keys(stage)[0]))) input = input.map(thaw);
    return new Aggregator(forMingo(rest)).run(input);
  }

  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    this.assertOpen();
    assertCollectionName(collection);
    indexes.forEach(assertIndexSpec);
    const coll = this.collections.get(collection) ?? this.create(collection);
    for (const spec of indexes) coll.addIndex(spec);
  }

  async drop(collection: string): Promise<void> {
    this.assertOpen();
    this.collections.delete(collection);
  }

  async listCollections(): Promise<string[]> {
    this.assertOpen();
    return [...this.collections.keys()].sort();
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    this.assertOpen();
    const held = this.leases.get(name);
    if (held !== undefined && held.owner !== owner && held.expiresAt >= now) return false;
    this.leases.set(name, { name, owner, expiresAt: now + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.assertOpen();
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private create(name: string): Collection {
    const coll = new Collection();
    this.collections.set(name, coll);
    return coll;
  }

  /** The documents matching `filter`, scanning the smallest candidate set an index (or `_id`) gives. */
  private select(coll: Collection, filter: Filter): Doc[] {
    const constraints = new Map<string, Scalar[]>();
    equalityConstraints(filter, constraints);
    let sources: Iterable<Entry>[] = [coll.entries.values()];
    let size = coll.size;
    /** The field whose buckets were chosen: every candidate passes its constraint or is left to mingo. */
    let bucketField: string | undefined;
    for (const [field, values] of constraints) {
      if (field === '_id') {
        const byId: Entry[] = [];
        for (const id of new Set(values)) {
          const e = typeof id === 'string' ? coll.entries.get(id) : undefined;
          if (e !== undefined) byId.push(e);
        }
        if (byId.length <= size) {
          sources = [byId];
          size = byId.length;
          bucketField = undefined;
        }
        continue;
      }
      const h = coll.hash(field);
      if (h === undefined) continue;
      const buckets = h.lookup(values);
      const n = buckets.reduce((sum, b) => sum + b.length, 0);
      if (n < size) {
        sources = buckets;
        size = n;
        bucketField = field;
      }
    }
    const out: Doc[] = [];
    if (size === 0) return out;
    if (Object.keys(filter).length === 0) {
      for (const source of sources) for (const e of source) out.push(e.doc);
      return out;
    }
    // Nothing but equalities on fields every entry keeps the key of: the keys decide, and mingo is asked only
    // about a document whose value there they cannot key (an array, an object). A portfolio page asked mingo
    // about every customer of the manager (~230 KB of garbage per page at 200 customers, measured).
    const keyed = keyedOnly(filter, coll);
    const checks: Prefilter[] = [];
    for (const [field, values] of constraints) {
      if (field === '_id' || (field === bucketField && !keyed) || values.includes(null)) continue;
      checks.push({ slot: coll.keySlot(field), path: field.split('.'), values: new Set(values) });
    }
    checks.sort((a, b) => Number(b.slot >= 0) - Number(a.slot >= 0)); // stored keys first
    let query: Query | undefined;
    for (const source of sources) {
      if (keyed) {
        for (const e of source) {
          const d = decide(e, checks);
          if (d === 1 || (d === 0 && (query ??= new Query(filter)).test(e.doc))) out.push(e.doc);
        }
      } else {
        query ??= new Query(filter);
        for (const e of source) if (passes(e, checks) && query.test(e.doc)) out.push(e.doc);
      }
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryReadModelStore is closed');
  }
}
