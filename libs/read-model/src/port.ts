/**
 * The read-model store port: MongoDB's document model, reduced to what every engine we target runs
 * (MongoDB, FerretDB v1, and mingo in memory; see shared/CLIENTS.md). Views are materialized by
 * projections and read with simple finds; `aggregate` is limited to the FerretDB subset.
 *
 * Every adapter passes test/contract/read-model.contract.ts (run against the memory adapter and against
 * FerretDB v1). Where the engines disagree, the port leaves the construct out, and every adapter rejects
 * a filter, sort, projection or pipeline outside the subset below with an `UnsupportedQueryError`
 * (libs/read-model/src/subset.ts), so that code that runs in memory also runs on the servers.
 *
 * Documents hold JSON values: strings (any Unicode), finite numbers (integers exact up to 2^53 - 1, so
 * money in fen is exact), booleans, null, plain objects and arrays; undefined properties are left out.
 * Not allowed: arrays directly inside arrays (FerretDB v1 refuses them; an array of objects holding
 * arrays is fine), field names starting with `$` or containing `.`, bigint, NaN / Infinity.
 *
 * Collection names: 1-120 chars of `[A-Za-z0-9_.-]`, starting with a letter or digit (names starting
 * with `_` are the adapters' own: `_checkpoints`, `_leases`), not `system.*`.
 *
 * Results are read-only: the memory adapter hands out its stored documents themselves, deep-frozen
 * (writing to one throws). Copy a result (`{ ...doc }`) to change it. `commit` keeps its own copy of what
 * it is given, so changing a written object afterwards changes nothing in the store.
 */

/** A stored document. `_id` is always a string chosen by the projection. */
export type Doc = { _id: string } & Record<string, unknown>;

/**
 * A MongoDB query filter (equality, $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or, dotted paths).
 * - `$and` / `$or` (non-empty arrays of filters) at the top level of a filter or nested inside each other;
 *   every other key is a field path (`'risk.level'` reaches into nested objects).
 * - A field's condition is a scalar (string, number, boolean, null: equality) or an object of operators:
 *   `$eq $ne $gt $gte $lt $lte` take a scalar, `$in $nin` an array of scalars, `$exists` true / false.
 *   No equality on whole embedded documents or arrays (use dotted paths); no $regex, $not, $nor,
 *   $elemMatch, $size, $expr, $where.
 * - MongoDB semantics: `{ f: null }` and `{ f: { $in: [null] } }` match null AND missing; `$ne` / `$nin`
 *   match missing fields (`$ne: null` matches neither null nor missing); on an array field, equality and
 *   `$in` match when an element does. Comparisons do not cross types (`$gt: 5` never matches a string).
 */
export type Filter = Record<string, unknown>;

/**
 * Sort keys in priority order; 1 ascending, -1 descending. Ties are broken by `_id` ascending by every
 * adapter (also without a sort: `find` returns `_id` order). Sort on fields holding scalars of one type:
 * null and missing sort together, before every value; strings by Unicode code point (no collation).
 * Mixed types follow MongoDB's type order (numbers, strings, ..., booleans; not covered by the contract);
 * sorting on arrays or embedded documents is unspecified.
 */
export type Sort = Record<string, 1 | -1>;

export interface FindOptions {
  sort?: Sort;
  /** Non-negative integer. */
  skip?: number;
  /** Non-negative integer; 0 or absent means no limit (MongoDB's meaning). */
  limit?: number;
  /** Inclusion (1) or exclusion (0) projection, not both (except `_id: 0`); dotted paths allowed. */
  projection?: Record<string, 0 | 1>;
}

/**
 * One aggregation stage of the subset FerretDB v1 runs: $match $group (with $sum and $count only) $sort
 * $limit $skip $project $set $addFields $unset $unwind $count. Checked against FerretDB v1.24, which
 * narrows it further:
 * - `$group`: `_id` is null, a constant, a field path (`'$tier'`) or an object of field paths
 *   (`{ tier: '$tier', level: '$risk.level' }`; missing values group under null); EXACTLY ONE accumulator
 *   besides `_id`: `{ $sum: 1 }`, `{ $sum: '$field' }` or `{ $count: {} }` (FerretDB computes only the
 *   first accumulator and returns 0 for the others; run one pipeline per figure).
 * - `$project`: `0` / `1` per field (inclusion or exclusion, dotted paths allowed) or a computed
 *   `{ $sum: '$field' | number | [...] }` (numbers only). A bare field path (`level: '$risk.level'`) is NOT
 *   evaluated by FerretDB (it stores the string), so it is rejected.
 * - `$set` / `$addFields`: top-level field names (FerretDB creates a field literally named `'a.b'`), each
 *   a constant (scalar not starting with `$`, array of scalars, object of constants) or `{ $sum: ... }`.
 * - `$unset`: a field path or an array of them. `$unwind`: the string form only (`'$tags'`; empty and
 *   missing arrays give no document). `$count`: a plain field name; no input gives no document.
 * - `$sort` / `$skip` / `$limit` (positive): as in find, except that ties keep an unspecified order (sort
 *   on a unique key, e.g. `_id` after a $group, for a stable answer).
 * - Once `_id` is gone (`$project` with `_id: 0`, `$unset: '_id'`, `$count`), no `$project` / `$unset`
 *   may follow (FerretDB v1 drops the connection); remove `_id` in the last projection. `$group` brings
 *   `_id` back.
 */
export type PipelineStage = Record<string, unknown>;

/** A write of a projection batch: replace the whole document (upsert, no merge) or delete it (missing: no-op). */
export type DocWrite = { put: Doc } | { delete: string };

export interface CollectionWrites {
  collection: string;
  writes: DocWrite[];
}

/**
 * An index a view needs, e.g. `{ managerId: 1, tier: 1 }`. Indexes only make queries faster, never change
 * answers. The memory adapter keeps a hash index on the FIRST field of each spec and uses it for an
 * equality or `$in` on that field (top level or in a top-level `$and`); put the most selective equality
 * field first. `_id` lookups are always direct.
 */
export type IndexSpec = Record<string, 1 | -1>;

/**
 * A projection's checkpoint: the last event position (decimal string of the event store's bigint Position)
 * whose effects are in the store, kept in the same store as the documents it covers.
 */
export interface Checkpoint {
  projection: string;
  position: string;
  /** ISO-8601 wall-clock time of the commit that stored it (bookkeeping only, never used for decisions). */
  updatedAt: string;
}

export interface Lease {
  name: string;
  owner: string;
  /** Epoch ms after which another owner may take it. */
  expiresAt: number;
}

export interface ReadModelStore {
  /**
   * Applies one batch of a projection: every write (collection by collection, in order), then stores its
   * checkpoint. A crash may leave writes without the checkpoint; projections make replays harmless by
   * keeping the position of the last applied event in each document they write.
   *
   * The outcome is that of applying the writes in order (the last write of a document wins; the MongoDB
   * adapter sends one unordered bulkWrite per collection with one operation per document). An empty batch
   * still stores the checkpoint. Creates a collection on its first put.
   */
  commit(projection: string, batch: CollectionWrites[], position: bigint): Promise<void>;
  checkpoint(projection: string): Promise<Checkpoint | null>;
  /** Forgets a projection's checkpoint (a rebuild starts over). */
  resetCheckpoint(projection: string): Promise<void>;

  findById(collection: string, id: string): Promise<Doc | null>;
  /** The documents found, in the order of `ids` (first occurrence), each once; missing ids are left out. */
  findByIds(collection: string, ids: readonly string[]): Promise<Doc[]>;
  /** Reads (this one, findById/findByIds, count, aggregate) of a collection that does not exist answer nothing, no error. */
  find(collection: string, filter?: Filter, options?: FindOptions): Promise<Doc[]>;
  count(collection: string, filter?: Filter): Promise<number>;
  aggregate(collection: string, pipeline: PipelineStage[]): Promise<Record<string, unknown>[]>;

  /** Idempotent; creates the collection (it is listed from then on). */
  ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void>;
  /** Removes a collection, its documents and its indexes; no error if it does not exist. */
  drop(collection: string): Promise<void>;
  /**
   * The collections created by a put or by `ensureIndexes` and not dropped since (still listed when all
   * their documents were deleted), in name order; never the adapters' own (`_checkpoints`, `_leases`).
   */
  listCollections(): Promise<string[]>;

  /**
   * A lease so that only one process applies a projection at a time. Takes it if it is free, expired, or
   * already this owner's (renewal); returns whether `owner` holds it now. Atomic on every adapter.
   * Expired means `expiresAt < now` (at `now === expiresAt` it is still held); a taken or renewed lease
   * expires at `now + ttlMs`. Times come from the caller (epoch ms).
   */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Frees the lease if `owner` holds it; otherwise (or if it does not exist) does nothing. */
  releaseLease(name: string, owner: string): Promise<void>;

  close(): Promise<void>;
}
