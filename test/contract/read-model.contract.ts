/**
 * The ReadModelStore port's contract, as a reusable jest suite written only against the port. Every
 * adapter runs it from an *.int-spec.ts (or *.servers-spec.ts for a real server):
 *
 *   describeReadModelContract('MemoryReadModelStore', { open: async () => new MemoryReadModelStore() });
 *
 * Collection, projection and lease names carry a random prefix per test, so the suite also runs against a
 * shared database that holds other data, and `open()` may return a fresh or the same underlying store.
 */
import { randomUUID } from 'crypto';
import type { CollectionWrites, Doc, Filter, FindOptions, PipelineStage, ReadModelStore } from '@crm/read-model';

export interface ReadModelContractFactory {
  /** Opens the store under test (called before every test; closed after it). */
  open(): Promise<ReadModelStore>;
  /** Called once after all tests (drop the test database...). */
  cleanup?(): Promise<void>;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

/**
 * The fixture: 8 customers. `note` is null on C01/C06, missing on C03/C04/C05/C07; C05 has no `risk` and
 * no `tags`; C03 has empty `tags`. monthToDateFen ties: C01 = C02 = C08.
 */
function fixture(): Doc[] {
  return [
    { _id: 'C01', name: '顺丰小店', managerId: 'M-1', tier: 'VIP', stage: 'RETENTION', risk: { level: 'HIGH', score: 80 }, monthToDateFen: 1_500_000, lifetimeFen: 2 ** 31, city: '上海', tags: ['cold', 'ecom'], note: null },
    { _id: 'C02', name: '圆通商贸', managerId: 'M-1', tier: 'VIP', stage: 'RETENTION', risk: { level: 'LOW', score: 10 }, monthToDateFen: 1_500_000, lifetimeFen: 2 ** 31 - 1, city: '北京', tags: ['ecom'], note: 'vip-note' },
    { _id: 'C03', name: '中通电子', managerId: 'M-1', tier: 'MIDDLE', stage: 'ACTIVATION', risk: { level: 'HIGH', score: 90 }, monthToDateFen: 300_000, lifetimeFen: 300_000, city: '上海', tags: [] },
    { _id: 'C04', name: '韵达食品', managerId: 'M-2', tier: 'VIP', stage: 'WINBACK', risk: { level: 'MEDIUM', score: 50 }, monthToDateFen: 2_000_000, lifetimeFen: 9_000_000, city: '广州', tags: ['fresh', 'cold'] },
    { _id: 'C05', name: '申通服饰', managerId: 'M-2', tier: 'REGULAR', stage: 'RETENTION', monthToDateFen: 50_000, lifetimeFen: 50_000, city: '上海' },
    { _id: 'C06', name: '极兔家居', managerId: 'M-2', tier: 'TRANSIENT', stage: 'ACQUISITION', risk: { level: 'LOW', score: 0 }, monthToDateFen: 0, lifetimeFen: 0, city: '深圳', tags: ['ecom'], note: null },
    { _id: 'C07', name: '京东大件', managerId: 'M-3', tier: 'PROJECT', stage: 'RETENTION', risk: { level: 'HIGH', score: 70 }, monthToDateFen: 5_000_000, lifetimeFen: MAX_SAFE, city: '北京', tags: ['bulky'] },
    { _id: 'C08', name: '德邦快运', managerId: 'M-3', tier: 'VIP', stage: 'LOST', risk: { level: 'HIGH', score: 95 }, monthToDateFen: 1_500_000, lifetimeFen: MAX_SAFE - 1, city: '杭州', tags: ['bulky', 'cold'], note: 'x' },
  ];
}

const ids = (docs: readonly { _id?: unknown }[]): unknown[] => docs.map((d) => d._id);
const puts = (collection: string, docs: Doc[]): CollectionWrites => ({ collection, writes: docs.map((put) => ({ put })) });

/** Code-point order of strings (what MongoDB's binary comparison gives), for expected orders. */
function codePointCompare(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** A tiny deterministic generator for the index tests. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

export function describeReadModelContract(name: string, factory: ReadModelContractFactory): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let store: ReadModelStore;
    /** Unique per test: `c<random>_`. */
    let prefix: string;
    const col = (s: string): string => `${prefix}${s}`;
    const loadFixture = async (collection = col('customers')): Promise<string> => {
      await store.commit(col('fixture'), [puts(collection, fixture())], 1n);
      return collection;
    };

    beforeEach(async () => {
      prefix = `c${randomUUID().replace(/-/g, '').slice(0, 10)}_`;
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await factory.cleanup?.();
    });

    describe('commit', () => {
      it('upserts documents into several collections and reads them back unchanged', async () => {
        const orders: Doc[] = [
          { _id: 'O1', customerId: 'C01', amountFen: 12_345, lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] },
          { _id: 'O2', customerId: 'C02', amountFen: 0, lines: [] },
        ];
        await store.commit(col('p'), [puts(col('customers'), fixture()), puts(col('orders'), orders)], 7n);
        expect(await store.findById(col('customers'), 'C07')).toEqual(fixture()[6]);
        expect(await store.findById(col('orders'), 'O1')).toEqual(orders[0]);
        expect(await store.count(col('customers'))).toBe(8);
        expect(await store.count(col('orders'))).toBe(2);
        expect(await store.findById(col('customers'), 'O1')).toBeNull();
      });

      it('round-trips JSON values exactly: Unicode, nesting, null, booleans, integers up to 2^53, fractions', async () => {
        const doc: Doc = {
          _id: '客户-🚚-1',
          name: '上海 顺丰 "quoted" \\ 🚚 ÄÖ',
          nested: { deep: { deeper: { list: [1, 2.5, null, true, 'x', { k: 'v', inner: [1, { deep: [2] }] }] } }, empty: {} },
          flags: { yes: true, no: false },
          nothing: null,
          emptyString: '',
          emptyList: [],
          money: { zero: 0, neg: -5, int32Max: 2 ** 31 - 1, int32Over: 2 ** 31, large: 123_456_789_012_345, max: MAX_SAFE, min: -MAX_SAFE },
          ratio: 0.125,
        };
        await store.commit(col('p'), [puts(col('docs'), [doc])], 1n);
        const back = await store.findById(col('docs'), '客户-🚚-1');
        expect(back).toEqual(doc);
        expect(Number.isSafeInteger((back!.money as Record<string, number>).max)).toBe(true);
        expect((await store.find(col('docs'), { name: '上海 顺丰 "quoted" \\ 🚚 ÄÖ' })).length).toBe(1);
      });

      it('leaves out undefined properties', async () => {
        await store.commit(col('p'), [puts(col('docs'), [{ _id: 'u', a: undefined, b: 1, nested: { c: undefined, d: 2 } }])], 1n);
        const back = await store.findById(col('docs'), 'u');
        expect(Object.keys(back!).sort()).toEqual(['_id', 'b', 'nested']);
        expect(Object.keys(back!.nested as object)).toEqual(['d']);
        expect(await store.count(col('docs'), { a: { $exists: false } })).toBe(1);
      });

      it('replaces the whole document on a second put (no merge) and deletes', async () => {
        const c = await loadFixture();
        await store.commit(
          col('p'),
          [{ collection: c, writes: [{ put: { _id: 'C01', name: '顺丰小店', tier: 'REGULAR' } }, { delete: 'C02' }] }],
          2n,
        );
        expect(await store.findById(c, 'C01')).toEqual({ _id: 'C01', name: '顺丰小店', tier: 'REGULAR' });
        expect(await store.findById(c, 'C02')).toBeNull();
        expect(await store.count(c)).toBe(7);
        expect(ids(await store.find(c, { managerId: 'M-1' }))).toEqual(['C03']);
      });

      it('applies writes in order: the last write of a document in a batch wins', async () => {
        const c = col('docs');
        await store.commit(col('p'), [puts(c, [{ _id: 'a', v: 0 }, { _id: 'b', v: 0 }, { _id: 'c', v: 0 }])], 1n);
        await store.commit(
          col('p'),
          [
            { collection: c, writes: [{ put: { _id: 'a', v: 1 } }, { delete: 'a' }] }, // put then delete: gone
            { collection: c, writes: [{ delete: 'b' }, { put: { _id: 'b', v: 2 } }] }, // delete then put: there
            { collection: c, writes: [{ put: { _id: 'd', v: 1 } }, { put: { _id: 'd', v: 2 } }] }, // two puts: last
            { collection: c, writes: [{ put: { _id: 'c', v: 3 } }] }, // same collection listed again
          ],
          2n,
        );
        expect(await store.find(c)).toEqual([
          { _id: 'b', v: 2 },
          { _id: 'c', v: 3 },
          { _id: 'd', v: 2 },
        ]);
      });

      it('ignores deletes of missing documents and from missing collections', async () => {
        const c = await loadFixture();
        await store.commit(
          col('p'),
          [
            { collection: c, writes: [{ delete: 'nope' }] },
            { collection: col('never-written'), writes: [{ delete: 'x' }] },
          ],
          2n,
        );
        expect(await store.count(c)).toBe(8);
        expect(await store.count(col('never-written'))).toBe(0);
      });

      it('keeps its own copy: changing a written object afterwards does not change the store', async () => {
        const doc = { _id: 'x', tier: 'VIP', risk: { level: 'HIGH' }, tags: ['a'] };
        await store.commit(col('p'), [puts(col('docs'), [doc])], 1n);
        doc.tier = 'LOST';
        doc.risk.level = 'LOW';
        doc.tags.push('b');
        expect(await store.findById(col('docs'), 'x')).toEqual({ _id: 'x', tier: 'VIP', risk: { level: 'HIGH' }, tags: ['a'] });
        expect(await store.count(col('docs'), { tier: 'VIP' })).toBe(1);
      });
    });

    describe('checkpoints', () => {
      it('is null when absent, stored by commit (even of an empty batch), overwritten, reset', async () => {
        const p = col('proj');
        expect(await store.checkpoint(p)).toBeNull();
        const before = Date.now();
        await store.commit(p, [], 42n);
        const cp = await store.checkpoint(p);
        expect(cp).toMatchObject({ projection: p, position: '42' });
        expect(Date.parse(cp!.updatedAt)).toBeGreaterThanOrEqual(before - 5_000);
        await loadFixture(); // another projection's commit
        const huge = 2n ** 64n + 12345n;
        await store.commit(p, [puts(col('docs'), [{ _id: 'a' }])], huge);
        expect((await store.checkpoint(p))?.position).toBe(huge.toString());
        expect((await store.checkpoint(col('fixture')))?.position).toBe('1');
        await store.resetCheckpoint(p);
        expect(await store.checkpoint(p)).toBeNull();
        expect((await store.checkpoint(col('fixture')))?.position).toBe('1');
        expect(await store.findById(col('docs'), 'a')).toEqual({ _id: 'a' }); // reset keeps the documents
        await store.resetCheckpoint(col('never')); // no error
      });
    });

    describe('findById / findByIds', () => {
      it('finds by id; a missing id or collection gives null', async () => {
        const c = await loadFixture();
        expect(await store.findById(c, 'C05')).toEqual(fixture()[4]);
        expect(await store.findById(c, 'C99')).toBeNull();
        expect(await store.findById(col('missing'), 'C01')).toBeNull();
      });

      it('findByIds returns the found documents in request order, each once, missing ids omitted', async () => {
        const c = await loadFixture();
        expect(ids(await store.findByIds(c, ['C03', 'nope', 'C01', 'C03']))).toEqual(['C03', 'C01']);
        expect(await store.findByIds(c, ['C08'])).toEqual([fixture()[7]]);
        expect(await store.findByIds(c, [])).toEqual([]);
        expect(await store.findByIds(col('missing'), ['C01'])).toEqual([]);
      });
    });

    describe('find / count', () => {
      /** Checks find (ids in _id order) and count of the same filter. */
      const expectMatch = async (c: string, filter: Filter, expected: string[]): Promise<void> => {
        expect({ filter, ids: ids(await store.find(c, filter)) }).toEqual({ filter, ids: expected });
        expect({ filter, count: await store.count(c, filter) }).toEqual({ filter, count: expected.length });
      };

      it('matches equality, several fields, dotted paths into nested objects, Unicode values', async () => {
        const c = await loadFixture();
        await expectMatch(c, {}, ['C01', 'C02', 'C03', 'C04', 'C05', 'C06', 'C07', 'C08']);
        await expectMatch(c, { managerId: 'M-1' }, ['C01', 'C02', 'C03']);
        await expectMatch(c, { 'risk.level': 'HIGH' }, ['C01', 'C03', 'C07', 'C08']);
        await expectMatch(c, { managerId: 'M-1', tier: 'VIP', 'risk.level': 'HIGH' }, ['C01']);
        await expectMatch(c, { city: '上海' }, ['C01', 'C03', 'C05']);
        await expectMatch(c, { name: '京东大件' }, ['C07']);
        await expectMatch(c, { tier: { $eq: 'PROJECT' } }, ['C07']);
        await expectMatch(c, { _id: 'C04' }, ['C04']);
        await expectMatch(c, { managerId: 'M-9' }, []);
        await expectMatch(c, { monthToDateFen: 1_500_000 }, ['C01', 'C02', 'C08']);
      });

      it('matches $in / $nin / $ne and comparison operators on numbers and strings', async () => {
        const c = await loadFixture();
        await expectMatch(c, { tier: { $in: ['VIP', 'PROJECT'] } }, ['C01', 'C02', 'C04', 'C07', 'C08']);
        await expectMatch(c, { tier: { $nin: ['VIP', 'PROJECT'] } }, ['C03', 'C05', 'C06']);
        await expectMatch(c, { stage: { $ne: 'RETENTION' } }, ['C03', 'C04', 'C06', 'C08']);
        await expectMatch(c, { _id: { $in: ['C02', 'C07', 'C99'] } }, ['C02', 'C07']);
        await expectMatch(c, { monthToDateFen: { $gt: 1_500_000 } }, ['C04', 'C07']);
        await expectMatch(c, { monthToDateFen: { $gte: 1_500_000 } }, ['C01', 'C02', 'C04', 'C07', 'C08']);
        await expectMatch(c, { monthToDateFen: { $lt: 300_000 } }, ['C05', 'C06']);
        await expectMatch(c, { monthToDateFen: { $lte: 300_000 } }, ['C03', 'C05', 'C06']);
        await expectMatch(c, { monthToDateFen: { $gt: 0, $lt: 1_500_000 } }, ['C03', 'C05']);
        await expectMatch(c, { 'risk.score': { $gte: 80 } }, ['C01', 'C03', 'C08']);
        await expectMatch(c, { managerId: { $gte: 'M-2' } }, ['C04', 'C05', 'C06', 'C07', 'C08']);
        await expectMatch(c, { managerId: { $lt: 'M-2' } }, ['C01', 'C02', 'C03']);
        await expectMatch(c, { _id: { $gt: 'C06' } }, ['C07', 'C08']);
        // Comparisons do not cross types.
        await expectMatch(c, { name: { $gt: 5 } }, []);
        await expectMatch(c, { monthToDateFen: { $gte: '' } }, []);
        await expectMatch(c, { monthToDateFen: '1500000' }, []);
      });

      it('keeps integers up to 2^53 exact in comparisons', async () => {
        const c = await loadFixture();
        await expectMatch(c, { lifetimeFen: MAX_SAFE }, ['C07']);
        await expectMatch(c, { lifetimeFen: MAX_SAFE - 1 }, ['C08']);
        await expectMatch(c, { lifetimeFen: { $gt: MAX_SAFE - 1 } }, ['C07']);
        await expectMatch(c, { lifetimeFen: { $gte: 2 ** 31 - 1, $lte: 2 ** 31 } }, ['C01', 'C02']);
        await expectMatch(c, { lifetimeFen: 2 ** 31 }, ['C01']);
      });

      it('matches $exists, and tells null from missing as MongoDB does', async () => {
        const c = await loadFixture();
        await expectMatch(c, { note: { $exists: true } }, ['C01', 'C02', 'C06', 'C08']);
        await expectMatch(c, { note: { $exists: false } }, ['C03', 'C04', 'C05', 'C07']);
        // Equality with null matches null and missing; $ne / $nin null match neither.
        await expectMatch(c, { note: null }, ['C01', 'C03', 'C04', 'C05', 'C06', 'C07']);
        await expectMatch(c, { note: { $ne: null } }, ['C02', 'C08']);
        await expectMatch(c, { note: { $in: [null, 'x'] } }, ['C01', 'C03', 'C04', 'C05', 'C06', 'C07', 'C08']);
        await expectMatch(c, { note: { $nin: [null] } }, ['C02', 'C08']);
        await expectMatch(c, { note: null, $and: [{ note: { $exists: true } }] }, ['C01', 'C06']);
        await expectMatch(c, { 'risk.level': null }, ['C05']);
        await expectMatch(c, { risk: { $exists: false } }, ['C05']);
        await expectMatch(c, { 'risk.level': { $exists: true } }, ['C01', 'C02', 'C03', 'C04', 'C06', 'C07', 'C08']);
        await expectMatch(c, { 'risk.missing': { $exists: true } }, []);
        await expectMatch(c, { note: { $ne: 'x' } }, ['C01', 'C02', 'C03', 'C04', 'C05', 'C06', 'C07']);
      });

      it('matches $or and $and, nested', async () => {
        const c = await loadFixture();
        await expectMatch(c, { $or: [{ tier: 'PROJECT' }, { 'risk.score': { $gte: 90 } }] }, ['C03', 'C07', 'C08']);
        await expectMatch(c, { $and: [{ city: '上海' }, { $or: [{ stage: 'RETENTION' }, { tier: 'MIDDLE' }] }] }, ['C01', 'C03', 'C05']);
        await expectMatch(c, { managerId: 'M-2', $or: [{ 'risk.level': 'LOW' }, { risk: { $exists: false } }] }, ['C05', 'C06']);
        await expectMatch(c, { $and: [{ monthToDateFen: { $gte: 50_000 } }, { monthToDateFen: { $lte: 1_500_000 } }] }, ['C01', 'C02', 'C03', 'C05', 'C08']);
      });

      it('matches a value inside an array field (equality and $in)', async () => {
        const c = await loadFixture();
        await expectMatch(c, { tags: 'cold' }, ['C01', 'C04', 'C08']);
        await expectMatch(c, { tags: { $in: ['fresh', 'bulky'] } }, ['C04', 'C07', 'C08']);
      });

      it('answers nothing for a collection that does not exist', async () => {
        expect(await store.find(col('missing'), { a: 1 }, { sort: { a: 1 }, limit: 5 })).toEqual([]);
        expect(await store.count(col('missing'))).toBe(0);
        expect(await store.aggregate(col('missing'), [{ $count: 'n' }])).toEqual([]);
      });

      it('rejects query operators outside the port', async () => {
        const c = await loadFixture();
        await expect(store.find(c, { name: { $regex: '^顺' } })).rejects.toThrow();
        await expect(store.count(c, { $where: 'true' })).rejects.toThrow();
        await expect(store.aggregate(c, [{ $lookup: { from: 'x', localField: 'a', foreignField: 'b', as: 'c' } }])).rejects.toThrow();
        await expect(store.aggregate(c, [{ $group: { _id: null, avg: { $avg: '$monthToDateFen' } } }])).rejects.toThrow();
        // FerretDB v1 computes only a $group's first accumulator, and stores field paths in $project/$set
        // as literal strings: the port leaves both out, and every adapter refuses them.
        await expect(store.aggregate(c, [{ $group: { _id: null, n: { $sum: 1 }, s: { $sum: '$lifetimeFen' } } }])).rejects.toThrow();
        await expect(store.aggregate(c, [{ $project: { level: '$risk.level' } }])).rejects.toThrow();
        await expect(store.aggregate(c, [{ $set: { copy: '$name' } }])).rejects.toThrow();
        await expect(store.aggregate(c, [{ $addFields: { 'meta.source': 'crm' } }])).rejects.toThrow();
        // ...and FerretDB v1 drops the connection on a projection of documents without _id.
        await expect(store.aggregate(c, [{ $project: { _id: 0, name: 1 } }, { $unset: 'name' }])).rejects.toThrow();
        await expect(store.aggregate(c, [{ $count: 'n' }, { $project: { n: 1 } }])).rejects.toThrow();
        expect(await store.aggregate(c, [{ $count: 'n' }, { $set: { ok: true } }])).toEqual([{ n: 8, ok: true }]);
      });
    });

    describe('sort / skip / limit / projection', () => {
      const sorted = async (c: string, options: FindOptions, filter: Filter = {}): Promise<unknown[]> =>
        ids(await store.find(c, filter, options));

      it('returns _id order without a sort', async () => {
        const c = col('docs');
        await store.commit(col('p'), [puts(c, ['k', 'b', 'z', 'a', 'B', '中', '1'].map((_id) => ({ _id })))], 1n);
        expect(await sorted(c, {})).toEqual(['1', 'B', 'a', 'b', 'k', 'z', '中']);
      });

      it('sorts numbers ascending and descending, ties broken by _id ascending', async () => {
        const c = await loadFixture();
        expect(await sorted(c, { sort: { monthToDateFen: -1 } })).toEqual(['C07', 'C04', 'C01', 'C02', 'C08', 'C03', 'C05', 'C06']);
        expect(await sorted(c, { sort: { monthToDateFen: 1 } })).toEqual(['C06', 'C05', 'C03', 'C01', 'C02', 'C08', 'C04', 'C07']);
        expect(await sorted(c, { sort: { lifetimeFen: -1 }, limit: 3 })).toEqual(['C07', 'C08', 'C01']);
        expect(await sorted(c, { sort: { 'risk.score': -1 } })).toEqual(['C08', 'C03', 'C01', 'C07', 'C04', 'C02', 'C06', 'C05']);
      });

      it('sorts strings (Unicode by code point), ties broken by _id ascending', async () => {
        const c = await loadFixture();
        expect(await sorted(c, { sort: { managerId: -1 } })).toEqual(['C07', 'C08', 'C04', 'C05', 'C06', 'C01', 'C02', 'C03']);
        const byCity = fixture()
          .sort((a, b) => codePointCompare(a.city as string, b.city as string) || codePointCompare(a._id, b._id))
          .map((d) => d._id);
        expect(await sorted(c, { sort: { city: 1 } })).toEqual(byCity);
        const byName = fixture()
          .sort((a, b) => codePointCompare(b.name as string, a.name as string))
          .map((d) => d._id);
        expect(await sorted(c, { sort: { name: -1 } })).toEqual(byName);
      });

      it('sorts on several keys in priority order', async () => {
        const c = await loadFixture();
        expect(await sorted(c, { sort: { tier: 1, monthToDateFen: -1 } })).toEqual(['C03', 'C07', 'C05', 'C06', 'C04', 'C01', 'C02', 'C08']);
        expect(await sorted(c, { sort: { managerId: 1, monthToDateFen: 1 } })).toEqual(['C03', 'C01', 'C02', 'C06', 'C05', 'C04', 'C08', 'C07']);
        expect(await sorted(c, { sort: { _id: -1 } })).toEqual(['C08', 'C07', 'C06', 'C05', 'C04', 'C03', 'C02', 'C01']);
      });

      it('sorts null and missing together, before every value', async () => {
        const c = await loadFixture();
        expect(await sorted(c, { sort: { note: 1 } })).toEqual(['C01', 'C03', 'C04', 'C05', 'C06', 'C07', 'C02', 'C08']);
        expect(await sorted(c, { sort: { note: -1 } })).toEqual(['C08', 'C02', 'C01', 'C03', 'C04', 'C05', 'C06', 'C07']);
      });

      it('sorts a filtered set (the portfolio query)', async () => {
        const c = await loadFixture();
        const filter = { managerId: { $in: ['M-1', 'M-3'] }, tier: 'VIP' };
        expect(await sorted(c, { sort: { monthToDateFen: -1 }, skip: 0, limit: 20 }, filter)).toEqual(['C01', 'C02', 'C08']);
        expect(await store.count(c, filter)).toBe(3);
      });

      it('paginates with skip/limit consistently with count', async () => {
        const c = await loadFixture();
        const filter = { stage: { $ne: 'ACQUISITION' } };
        const all = await sorted(c, { sort: { monthToDateFen: -1 } }, filter);
        expect(all).toEqual(['C07', 'C04', 'C01', 'C02', 'C08', 'C03', 'C05']);
        expect(await store.count(c, filter)).toBe(all.length);
        const pages: unknown[] = [];
        for (let skip = 0; skip < all.length; skip += 3) {
          const page = await sorted(c, { sort: { monthToDateFen: -1 }, skip, limit: 3 }, filter);
          expect(page.length).toBe(Math.min(3, all.length - skip));
          pages.push(...page);
        }
        expect(pages).toEqual(all);
        expect(await sorted(c, { sort: { monthToDateFen: -1 }, skip: 7, limit: 3 }, filter)).toEqual([]);
        expect(await sorted(c, { sort: { monthToDateFen: -1 }, skip: 5 }, filter)).toEqual(['C03', 'C05']);
        expect(await sorted(c, { sort: { monthToDateFen: -1 }, limit: 2 }, filter)).toEqual(['C07', 'C04']);
        expect(await sorted(c, { sort: { monthToDateFen: -1 }, skip: 4, limit: 0 }, filter)).toEqual(['C08', 'C03', 'C05']); // 0: no limit
      });

      it('projects included fields (with dotted paths), excluded fields, and _id: 0', async () => {
        const c = await loadFixture();
        const inc = await store.find(c, { _id: { $in: ['C01', 'C05'] } }, { projection: { name: 1, 'risk.level': 1 } });
        expect(inc).toEqual([
          { _id: 'C01', name: '顺丰小店', risk: { level: 'HIGH' } },
          { _id: 'C05', name: '申通服饰' },
        ]);
        const exc = await store.find(c, { _id: 'C04' }, { projection: { risk: 0, tags: 0, lifetimeFen: 0 } });
        expect(exc).toEqual([{ _id: 'C04', name: '韵达食品', managerId: 'M-2', tier: 'VIP', stage: 'WINBACK', monthToDateFen: 2_000_000, city: '广州' }]);
        const nested = await store.find(c, { _id: 'C02' }, { projection: { 'risk.score': 0, tags: 0, lifetimeFen: 0 } });
        expect(nested).toEqual([{ _id: 'C02', name: '圆通商贸', managerId: 'M-1', tier: 'VIP', stage: 'RETENTION', risk: { level: 'LOW' }, monthToDateFen: 1_500_000, city: '北京', note: 'vip-note' }]);
        expect(await store.findById(c, 'C02')).toEqual(fixture()[1]); // projections never change the stored document
        const noId = await store.find(c, { managerId: 'M-3' }, { projection: { _id: 0, name: 1 }, sort: { monthToDateFen: -1 } });
        expect(noId).toEqual([{ name: '京东大件' }, { name: '德邦快运' }]);
      });
    });

    describe('aggregate', () => {
      it('$match + $group ($sum of a field, $sum: 1, $count) + $sort', async () => {
        const c = await loadFixture();
        expect(
          await store.aggregate(c, [
            { $match: { tier: 'VIP' } },
            { $group: { _id: '$managerId', totalFen: { $sum: '$monthToDateFen' } } },
            { $sort: { _id: 1 } },
          ]),
        ).toEqual([
          { _id: 'M-1', totalFen: 3_000_000 },
          { _id: 'M-2', totalFen: 2_000_000 },
          { _id: 'M-3', totalFen: 1_500_000 },
        ]);
        expect(
          await store.aggregate(c, [
            { $match: { tier: 'VIP' } },
            { $group: { _id: '$managerId', customers: { $sum: 1 } } },
            { $sort: { customers: -1, _id: 1 } },
          ]),
        ).toEqual([
          { _id: 'M-1', customers: 2 },
          { _id: 'M-2', customers: 1 },
          { _id: 'M-3', customers: 1 },
        ]);
        expect(
          await store.aggregate(c, [{ $group: { _id: '$stage', n: { $count: {} } } }, { $sort: { n: -1, _id: 1 } }]),
        ).toEqual([
          { _id: 'RETENTION', n: 4 },
          { _id: 'ACQUISITION', n: 1 },
          { _id: 'ACTIVATION', n: 1 },
          { _id: 'LOST', n: 1 },
          { _id: 'WINBACK', n: 1 },
        ]);
        expect(await store.aggregate(c, [{ $group: { _id: null, n: { $sum: 1 } } }])).toEqual([{ _id: null, n: 8 }]);
        expect(await store.aggregate(c, [{ $group: { _id: null, totalFen: { $sum: '$monthToDateFen' } } }])).toEqual([
          { _id: null, totalFen: 11_850_000 },
        ]);
        expect(await store.aggregate(c, [{ $match: { tier: 'NONE' } }, { $group: { _id: null, n: { $sum: 1 } } }])).toEqual([]);
      });

      it('$group by a compound key, and by a dotted path (missing groups under null)', async () => {
        const c = await loadFixture();
        expect(
          await store.aggregate(c, [
            { $match: { managerId: 'M-1' } },
            { $group: { _id: { tier: '$tier', level: '$risk.level' }, n: { $sum: 1 } } },
            { $sort: { '_id.tier': 1, '_id.level': 1 } },
          ]),
        ).toEqual([
          { _id: { tier: 'MIDDLE', level: 'HIGH' }, n: 1 },
          { _id: { tier: 'VIP', level: 'HIGH' }, n: 1 },
          { _id: { tier: 'VIP', level: 'LOW' }, n: 1 },
        ]);
        expect(
          await store.aggregate(c, [{ $group: { _id: '$risk.level', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]),
        ).toEqual([
          { _id: null, n: 1 },
          { _id: 'HIGH', n: 4 },
          { _id: 'LOW', n: 2 },
          { _id: 'MEDIUM', n: 1 },
        ]);
      });

      it('$sum keeps integers exact up to 2^53', async () => {
        const c = await loadFixture();
        expect(
          await store.aggregate(c, [
            { $match: { _id: { $in: ['C01', 'C02', 'C03'] } } },
            { $group: { _id: null, s: { $sum: '$lifetimeFen' } } },
          ]),
        ).toEqual([{ _id: null, s: 2 ** 32 - 1 + 300_000 }]);
        expect(
          await store.aggregate(c, [{ $match: { lifetimeFen: { $gt: 2 ** 40 } } }, { $group: { _id: '$tier', s: { $sum: '$lifetimeFen' } } }, { $sort: { _id: 1 } }]),
        ).toEqual([
          { _id: 'PROJECT', s: MAX_SAFE },
          { _id: 'VIP', s: MAX_SAFE - 1 },
        ]);
      });

      it('$unwind an array field (empty and missing arrays give nothing)', async () => {
        const c = await loadFixture();
        expect(
          await store.aggregate(c, [{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { n: -1, _id: 1 } }]),
        ).toEqual([
          { _id: 'cold', n: 3 },
          { _id: 'ecom', n: 3 },
          { _id: 'bulky', n: 2 },
          { _id: 'fresh', n: 1 },
        ]);
        expect(
          await store.aggregate(c, [{ $match: { managerId: 'M-1' } }, { $unwind: '$tags' }, { $project: { _id: 1, tags: 1 } }, { $sort: { _id: 1, tags: 1 } }]),
        ).toEqual([
          { _id: 'C01', tags: 'cold' },
          { _id: 'C01', tags: 'ecom' },
          { _id: 'C02', tags: 'ecom' },
        ]);
      });

      it('$project / $set / $addFields / $unset', async () => {
        const c = await loadFixture();
        expect(
          await store.aggregate(c, [
            { $match: { _id: { $in: ['C01', 'C05'] } } },
            { $project: { name: 1, monthToDateFen: 1, 'risk.level': 1 } },
            { $set: { currency: 'CNY', labels: ['a', 'b'] } },
            { $addFields: { amountFen: { $sum: '$monthToDateFen' }, meta: { source: 'crm', version: 2 } } },
            { $unset: 'monthToDateFen' },
            { $sort: { _id: 1 } },
          ]),
        ).toEqual([
          { _id: 'C01', name: '顺丰小店', risk: { level: 'HIGH' }, currency: 'CNY', labels: ['a', 'b'], amountFen: 1_500_000, meta: { source: 'crm', version: 2 } },
          { _id: 'C05', name: '申通服饰', currency: 'CNY', labels: ['a', 'b'], amountFen: 50_000, meta: { source: 'crm', version: 2 } },
        ]);
        expect(
          await store.aggregate(c, [
            { $match: { _id: { $in: ['C03', 'C05'] } } },
            { $project: { _id: 1, totalFen: { $sum: ['$monthToDateFen', '$lifetimeFen'] }, score: { $sum: '$risk.score' } } },
            { $sort: { totalFen: -1 } },
          ]),
        ).toEqual([
          { _id: 'C03', totalFen: 600_000, score: 90 },
          { _id: 'C05', totalFen: 100_000, score: 0 },
        ]);
        expect(
          await store.aggregate(c, [
            { $match: { _id: 'C02' } },
            { $project: { tier: 1, risk: 1 } },
            { $unset: ['risk.score', '_id'] },
          ]),
        ).toEqual([{ tier: 'VIP', risk: { level: 'LOW' } }]);
        expect(await store.findById(c, 'C02')).toEqual(fixture()[1]); // pipelines never change the stored document
        expect(
          await store.aggregate(c, [{ $match: { _id: 'C06' } }, { $project: { risk: 0, tags: 0, note: 0, lifetimeFen: 0 } }]),
        ).toEqual([{ _id: 'C06', name: '极兔家居', managerId: 'M-2', tier: 'TRANSIENT', stage: 'ACQUISITION', monthToDateFen: 0, city: '深圳' }]);
      });

      it('$count, $skip, $limit; $count of nothing gives no document', async () => {
        const c = await loadFixture();
        expect(await store.aggregate(c, [{ $match: { 'risk.level': 'HIGH' } }, { $count: 'high' }])).toEqual([{ high: 4 }]);
        expect(await store.aggregate(c, [{ $count: 'all' }])).toEqual([{ all: 8 }]);
        expect(await store.aggregate(c, [{ $match: { tier: 'NONE' } }, { $count: 'n' }])).toEqual([]);
        expect(
          await store.aggregate(c, [{ $sort: { monthToDateFen: -1, _id: 1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { _id: 1 } }]),
        ).toEqual([{ _id: 'C04' }, { _id: 'C01' }]);
        expect(await store.aggregate(c, [{ $match: { _id: 'C03' } }])).toEqual([fixture()[2]]);
      });
    });

    describe('indexes', () => {
      const FILTERS: Filter[] = [
        {},
        { managerId: 'M-1' },
        { managerId: { $in: ['M-1', 'M-3', 'M-9'] } },
        { managerId: { $eq: 'M-2' }, tier: 'VIP' },
        { managerId: null },
        { managerId: { $ne: 'M-1' } },
        { managerId: 'M-1', tier: 'VIP', 'risk.level': 'HIGH' },
        { tier: { $in: ['VIP', 'MIDDLE'] }, managerId: { $in: ['M-2', 'M-3'] }, 'risk.level': 'HIGH', tags: 'cold' },
        { tier: 'VIP', 'risk.level': { $in: ['LOW', 'MEDIUM'] }, monthToDateFen: 300_000 },
        { 'risk.level': 'HIGH' },
        { 'risk.level': null },
        { 'risk.level': { $in: ['HIGH', null] } },
        { $and: [{ managerId: 'M-2' }, { 'risk.level': { $in: ['HIGH', 'MEDIUM'] } }] },
        { $or: [{ managerId: 'M-3' }, { tier: 'PROJECT' }] },
        { tier: 'VIP', monthToDateFen: { $gte: 500_000 } },
        { tags: 'cold' },
        { _id: { $in: ['D001', 'D002', 'D150', 'nope'] }, managerId: { $in: ['M-1', 'M-2'] } },
        { managerId: 'M-1', $and: [{ managerId: { $in: ['M-1', 'M-2'] } }] },
        { flag: true },
        { flag: 1 },
        { n: 0 },
      ];
      const snapshot = async (c: string): Promise<unknown[]> => {
        const out: unknown[] = [];
        for (const filter of FILTERS) {
          out.push({ filter, count: await store.count(c, filter) });
          out.push({ filter, ids: ids(await store.find(c, filter, { sort: { monthToDateFen: -1 } })) });
          out.push({ filter, page: ids(await store.find(c, filter, { sort: { tier: 1, monthToDateFen: -1 }, skip: 2, limit: 5 })) });
          out.push({
            filter,
            groups: await store.aggregate(c, [
              ...(Object.keys(filter).length > 0 ? [{ $match: filter }] : []),
              { $group: { _id: '$tier', n: { $sum: 1 } } },
              { $sort: { _id: 1 } },
            ] as PipelineStage[]),
          });
          out.push({
            filter,
            fen: await store.aggregate(c, [
              ...(Object.keys(filter).length > 0 ? [{ $match: filter }] : []),
              { $group: { _id: '$managerId', fen: { $sum: '$monthToDateFen' } } },
              { $sort: { fen: -1, _id: 1 } },
            ] as PipelineStage[]),
          });
        }
        return out;
      };
      const MANAGERS = ['M-1', 'M-2', 'M-3', null, undefined, ['M-1', 'M-2'], { id: 'M-1' }, 0];
      const TIERS = ['TRANSIENT', 'REGULAR', 'MIDDLE', 'VIP', 'PROJECT'];
      const LEVELS = ['LOW', 'MEDIUM', 'HIGH', null, undefined];
      const randomDoc = (random: () => number, i: number): Doc => {
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
        const level = pick(LEVELS);
        const riskShape = random();
        const doc: Doc = {
          _id: `D${String(i).padStart(3, '0')}`,
          managerId: random() < 0.8 ? pick(MANAGERS.slice(0, 3)) : pick(MANAGERS),
          tier: pick(TIERS),
          monthToDateFen: Math.floor(random() * 20) * 100_000,
          tags: random() < 0.5 ? ['cold'] : ['ecom'],
          flag: random() < 0.3 ? true : random() < 0.5 ? 1 : 'yes',
          n: pick([0, -0, 1]),
        };
        if (riskShape < 0.7) doc.risk = level === undefined ? {} : { level };
        else if (riskShape < 0.8) doc.risk = [{ level: 'HIGH' }, { level }]; // dotted path crossing an array
        else if (riskShape < 0.9) doc.risk = 'none';
        if (doc.managerId === undefined) delete doc.managerId;
        return doc;
      };

      it('do not change answers: before and after ensureIndexes, and across updates that move documents between buckets', async () => {
        const plain = col('plain');
        const indexed = col('indexed');
        const random = lcg(2024);
        const docs = Array.from({ length: 150 }, (_, i) => randomDoc(random, i));
        await store.commit(col('p'), [puts(plain, docs), puts(indexed, docs)], 1n);
        const before = await snapshot(plain);
        expect(await snapshot(indexed)).toEqual(before);

        await store.ensureIndexes(indexed, [{ managerId: 1, tier: 1 }, { 'risk.level': 1, monthToDateFen: -1 }, { tags: 1 }, { flag: 1 }, { n: -1 }, { _id: 1 }]);
        await store.ensureIndexes(indexed, [{ managerId: 1, tier: 1 }]); // idempotent
        expect(await snapshot(indexed)).toEqual(before);

        for (let round = 0; round < 3; round++) {
          const writes: CollectionWrites['writes'] = [];
          for (let k = 0; k < 60; k++) {
            const i = Math.floor(random() * 170); // some new ids, some existing
            if (random() < 0.2) writes.push({ delete: `D${String(i).padStart(3, '0')}` });
            else writes.push({ put: randomDoc(random, i) });
          }
          await store.commit(col('p'), [{ collection: plain, writes }, { collection: indexed, writes }], BigInt(round + 2));
          expect(await snapshot(indexed)).toEqual(await snapshot(plain));
        }
      });

      it('moves a document between buckets when its indexed field changes', async () => {
        const c = await loadFixture();
        await store.ensureIndexes(c, [{ managerId: 1 }, { 'risk.level': 1, monthToDateFen: -1 }]);
        await store.commit(
          col('p'),
          [
            {
              collection: c,
              writes: [
                { put: { ...fixture()[0], managerId: 'M-2' } },
                { put: { ...fixture()[4], risk: { level: 'HIGH' } } },
                { delete: 'C03' },
                { put: { _id: 'C09', managerId: 'M-1', tier: 'VIP', risk: { level: 'HIGH' }, monthToDateFen: 10 } },
              ],
            },
          ],
          2n,
        );
        expect(ids(await store.find(c, { managerId: 'M-1' }))).toEqual(['C02', 'C09']);
        expect(ids(await store.find(c, { managerId: 'M-2' }))).toEqual(['C01', 'C04', 'C05', 'C06']);
        expect(ids(await store.find(c, { 'risk.level': 'HIGH' }, { sort: { monthToDateFen: -1 } }))).toEqual(['C07', 'C01', 'C08', 'C05', 'C09']);
        expect(await store.count(c, { managerId: 'M-1', 'risk.level': 'HIGH' })).toBe(1);
        await store.drop(c);
        await loadFixture(c); // indexes went with the collection; answers are still right
        expect(ids(await store.find(c, { managerId: 'M-1' }))).toEqual(['C01', 'C02', 'C03']);
      });
    });

    describe('collections', () => {
      const ours = async (): Promise<string[]> => (await store.listCollections()).filter((n) => n.startsWith(prefix));

      it('lists written and indexed collections in name order; drop removes one, idempotently', async () => {
        expect(await ours()).toEqual([]);
        await store.commit(col('p'), [puts(col('b'), [{ _id: '1' }]), puts(col('a'), [{ _id: '1' }])], 1n);
        await store.ensureIndexes(col('c'), [{ x: 1 }]);
        expect(await ours()).toEqual([col('a'), col('b'), col('c')]);
        await store.drop(col('b'));
        await store.drop(col('b'));
        await store.drop(col('never'));
        expect(await ours()).toEqual([col('a'), col('c')]);
        expect(await store.find(col('b'))).toEqual([]);
        expect(await store.findById(col('a'), '1')).toEqual({ _id: '1' });
        await store.commit(col('p'), [puts(col('b'), [{ _id: '2' }])], 2n);
        expect(await store.find(col('b'))).toEqual([{ _id: '2' }]);
      });

      it('does not list its own bookkeeping (checkpoints, leases)', async () => {
        await store.commit(col('p'), [puts(col('a'), [{ _id: '1' }])], 1n);
        await store.acquireLease(col('lease'), 'me', 1_000, Date.now());
        const all = await store.listCollections();
        expect(all.filter((n) => n.startsWith('_') || n.startsWith('system.'))).toEqual([]);
        expect(all).toContain(col('a'));
      });
    });

    describe('leases', () => {
      it('acquire, renew by the same owner, refused to another before expiry, taken after, release', async () => {
        const l = col('projector');
        const t0 = 1_700_000_000_000;
        expect(await store.acquireLease(l, 'A', 1_000, t0)).toBe(true);
        expect(await store.acquireLease(l, 'B', 1_000, t0 + 500)).toBe(false);
        expect(await store.acquireLease(l, 'A', 1_000, t0 + 600)).toBe(true); // renewed: expires at t0 + 1600
        expect(await store.acquireLease(l, 'B', 1_000, t0 + 1_500)).toBe(false);
        expect(await store.acquireLease(l, 'B', 1_000, t0 + 1_600)).toBe(false); // expiresAt itself: still held
        expect(await store.acquireLease(l, 'B', 1_000, t0 + 1_601)).toBe(true); // expired: taken over
        expect(await store.acquireLease(l, 'A', 1_000, t0 + 1_700)).toBe(false);
        await store.releaseLease(l, 'A'); // not A's: no effect
        expect(await store.acquireLease(l, 'A', 1_000, t0 + 1_800)).toBe(false);
        await store.releaseLease(l, 'B');
        expect(await store.acquireLease(l, 'A', 1_000, t0 + 1_800)).toBe(true);
        await store.releaseLease(col('never'), 'A'); // no error
      });

      it('keeps leases independent by name', async () => {
        const t0 = 1_700_000_000_000;
        expect(await store.acquireLease(col('x'), 'A', 1_000, t0)).toBe(true);
        expect(await store.acquireLease(col('y'), 'B', 1_000, t0)).toBe(true);
        expect(await store.acquireLease(col('x'), 'B', 1_000, t0 + 1)).toBe(false);
      });

      it('gives a free lease to exactly one of several concurrent owners', async () => {
        const l = col('race');
        const now = 1_700_000_000_000;
        const results = await Promise.all(['A', 'B', 'C', 'D', 'E'].map((o) => store.acquireLease(l, o, 5_000, now)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = ['A', 'B', 'C', 'D', 'E'][results.indexOf(true)];
        expect(await store.acquireLease(l, winner, 5_000, now + 1)).toBe(true);
      });
    });
  });
}
