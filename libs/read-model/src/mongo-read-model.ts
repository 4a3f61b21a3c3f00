/**
 * The read-model store on MongoDB (production) or any MongoDB-wire server such as FerretDB v1 (tests),
 * through the official `mongodb` driver. Thin: the port is MongoDB's own model, so calls pass through;
 * the adapter only adds the `_id` tie-break to sorts, the checkpoint and lease collections, and the same
 * query-subset check as the memory adapter (so a query outside the port fails here too).
 *
 * Two collections of the database are the adapter's own: `_checkpoints` (one document per projection,
 * written after the projection's documents) and `_leases`. `listCollections` hides them.
 */
import {
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection as MongoCollection,
  type Db,
  type MongoClientOptions,
} from 'mongodb';
import type {
  Checkpoint,
  CollectionWrites,
  Doc,
  Filter,
  FindOptions,
  IndexSpec,
  PipelineStage,
  ReadModelStore,
  Sort,
} from './port';
import {
  assertCollectionName,
  assertDocId,
  assertFilter,
  assertFindOptions,
  assertIndexSpec,
  assertPipeline,
} from './subset';

const CHECKPOINTS = '_checkpoints';
const LEASES = '_leases';
/** Operations per bulkWrite command (see commit). */
const BULK_CHUNK = 64;
/** Documents per deleteMany + insertMany pair in `delete-insert` mode (see commit). */
const DELETE_INSERT_CHUNK = 20_000;

interface CheckpointDoc {
  _id: string;
  position: string;
  updatedAt: string;
}
interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: number;
}

function withIdTieBreak(sort: Sort | undefined): Record<string, 1 | -1> {
  const out: Record<string, 1 | -1> = {};
  for (const [field, dir] of Object.entries(sort ?? {})) {
    out[field] = dir;
    if (field === '_id') return out;
  }
  out._id = 1;
  return out;
}

function isDuplicateKey(e: unknown): boolean {
  return e instanceof MongoServerError && e.code === 11000;
}

export class MongoReadModelStore implements ReadModelStore {
  /**
   * How `commit` writes documents. `replace` (default): one replaceOne/deleteOne per document, each atomic.
   * `delete-insert`: per chunk of 20,000 documents one deleteMany by `_id` and one insertMany — for FerretDB
   * v1 (SQLite), whose replaceOne scans the whole collection for each document (~50-200 documents/s on a
   * few thousand); a reader may then miss a document for the moment between the two commands.
   */
  bulkMode: 'replace' | 'delete-insert' = 'replace';

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /**
   * Connects and checks the server answers (a clear error naming the URL if not). Options default to
   * `ignoreUndefined: true` (undefined properties are left out, as in the memory adapter) and a 10 s
   * server-selection timeout.
   */
  static async connect(url: string, dbName: string, options: MongoClientOptions = {}): Promise<MongoReadModelStore> {
    const client = new MongoClient(url, { ignoreUndefined: true, serverSelectionTimeoutMS: 10_000, ...options });
    try {
      await client.connect();
      const db = client.db(dbName);
      await db.command({ ping: 1 });
      return new MongoReadModelStore(client, db);
    } catch (e) {
      await client.close().catch(() => undefined);
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`cannot connect to MongoDB at ${url} (database ${dbName}): ${reason}`, { cause: e });
    }
  }

  async commit(projection: string, batch: CollectionWrites[], position: bigint): Promise<void> {
    if (typeof position !== 'bigint' || position < 0n) throw new TypeError('position must be a non-negative bigint');
    // One operation per document and collection (the last write of a document wins), so that the
    // unordered bulk write gives the same result as applying the writes in order.
    const byCollection = new Map<string, Map<string, AnyBulkWriteOperation<Doc>>>();
    for (const { collection, writes } of batch) {
      assertCollectionName(collection);
      let ops = byCollection.get(collection);
      if (ops === undefined) byCollection.set(collection, (ops = new Map()));
      for (const w of writes) {
        if ('put' in w) {
          assertDocId(w.put, collection);
          ops.set(w.put._id, { replaceOne: { filter: { _id: w.put._id }, replacement: w.put, upsert: true } });
        } else {
          if (typeof w.delete !== 'string') throw new TypeError(`a delete from ${collection} needs a string _id`);
          ops.set(w.delete, { deleteOne: { filter: { _id: w.delete } } });
        }
      }
    }
    // At most BULK_CHUNK operations per command: FerretDB v1 (SQLite) stops answering on an update command of
    // about 100 replacements of existing documents (and every later command on the database waits behind it).
    for (const [collection, ops] of byCollection) {
      const all = [...ops.values()];
      if (this.bulkMode === 'delete-insert') {
        // One deleteMany per DELETE_INSERT_CHUNK documents: FerretDB v1 answers any _id filter by scanning the
        // whole collection (its _id index is on another expression than the one it queries), so a commit costs
        // one scan per command, whatever the number of ids in it.
        for (let i = 0; i < all.length; i += DELETE_INSERT_CHUNK) {
          const part = all.slice(i, i + DELETE_INSERT_CHUNK);
          const ids = part.map((op) => ('replaceOne' in op ? (op.replaceOne.replacement as Doc)._id : (op as { deleteOne: { filter: { _id: string } } }).deleteOne.filter._id));
          const docs = part.flatMap((op) => ('replaceOne' in op ? [op.replaceOne.replacement as Doc] : []));
          await this.docs(collection).deleteMany({ _id: { $in: ids } });
          if (docs.length > 0) await this.docs(collection).insertMany(docs, { ordered: false });
        }
        continue;
      }
      for (let i = 0; i < all.length; i += BULK_CHUNK) await this.docs(collection).bulkWrite(all.slice(i, i + BULK_CHUNK), { ordered: false });
    }
    await this.checkpoints().updateOne(
      { _id: projection },
      { $set: { position: position.toString(), updatedAt: new Date().toISOString() } },
      { upsert: true },
    );
  }

  async checkpoint(projection: string): Promise<Checkpoint | null> {
    const doc = await this.checkpoints().findOne({ _id: projection });
    return doc === null ? null : { projection, position: doc.position, updatedAt: doc.updatedAt };
  }

  async resetCheckpoint(projection: string): Promise<void> {
    await this.checkpoints().deleteOne({ _id: projection });
  }

  async findById(collection: string, id: string): Promise<Doc | null> {
    return this.docs(collection).findOne({ _id: id });
  }

  async findByIds(collection: string, ids: readonly string[]): Promise<Doc[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const found = new Map<string, Doc>();
    for (const doc of await this.docs(collection).find({ _id: { $in: unique } }).toArray()) found.set(doc._id, doc);
    return unique.flatMap((id) => found.get(id) ?? []);
  }

  async find(collection: string, filter: Filter = {}, options: FindOptions = {}): Promise<Doc[]> {
    assertFilter(filter);
    assertFindOptions(options);
    const docs = await this.docs(collection)
      .find(filter, {
        sort: withIdTieBreak(options.sort),
        skip: options.skip,
        limit: options.limit,
        projection: options.projection,
      })
      .toArray();
    return docs;
  }

  async count(collection: string, filter: Filter = {}): Promise<number> {
    assertFilter(filter);
    return this.docs(collection).countDocuments(filter);
  }

  async aggregate(collection: string, pipeline: PipelineStage[]): Promise<Record<string, unknown>[]> {
    assertPipeline(pipeline);
    return this.docs(collection).aggregate(pipeline).toArray();
  }

  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    assertCollectionName(collection);
    indexes.forEach(assertIndexSpec);
    // The _id index always exists (and createIndexes refuses a second one under another name).
    indexes = indexes.filter((spec) => Object.keys(spec).some((field) => field !== '_id'));
    if (indexes.length === 0) {
      // Create the collection, as the memory adapter does: it is listed from now on.
      await this.db.createCollection(collection).catch((e: unknown) => {
        if (!(e instanceof MongoServerError && e.code === 48)) throw e; // NamespaceExists
      });
      return;
    }
    // Only the missing ones: FerretDB v1 drops the connection (a panic) when createIndexes repeats an existing
    // compound index, which every projector start after the first would do.
    const existing = await this.docs(collection)
      .listIndexes()
      .toArray()
      .catch((e: unknown) => {
        if (e instanceof MongoServerError && e.code === 26) return []; // NamespaceNotFound
        throw e;
      });
    const keyOf = (key: Record<string, unknown>) => JSON.stringify(Object.entries(key));
    const have = new Set(existing.map((ix) => keyOf(ix.key as Record<string, unknown>)));
    const missing = indexes.filter((key) => !have.has(keyOf(key)));
    if (missing.length > 0) await this.docs(collection).createIndexes(missing.map((key) => ({ key })));
  }

  async drop(collection: string): Promise<void> {
    try {
      await this.db.dropCollection(collection);
    } catch (e) {
      if (!(e instanceof MongoServerError && e.code === 26)) throw e; // NamespaceNotFound
    }
  }

  async listCollections(): Promise<string[]> {
    const infos = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return infos
      .map((c) => c.name)
      .filter((n) => n !== CHECKPOINTS && n !== LEASES && !n.startsWith('system.'))
      .sort();
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    try {
      // Matches when free-but-present and expired, or already ours; otherwise the upsert tries to insert
      // `_id: name` and the unique _id index refuses it: someone else holds the lease.
      await this.leases().findOneAndUpdate(
        { _id: name, $or: [{ owner }, { expiresAt: { $lt: now } }] },
        { $set: { owner, expiresAt: now + ttlMs } },
        { upsert: true },
      );
      return true;
    } catch (e) {
      if (isDuplicateKey(e)) return false;
      throw e;
    }
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.leases().deleteOne({ _id: name, owner });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private docs(collection: string): MongoCollection<Doc> {
    return this.db.collection<Doc>(collection);
  }

  private checkpoints(): MongoCollection<CheckpointDoc> {
    return this.db.collection<CheckpointDoc>(CHECKPOINTS);
  }

  private leases(): MongoCollection<LeaseDoc> {
    return this.db.collection<LeaseDoc>(LEASES);
  }
}
