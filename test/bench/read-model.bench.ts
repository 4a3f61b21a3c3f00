/**
 * Micro-benchmark of MemoryReadModelStore, run by hand (no assertions; prints JSON):
 *   npm run build && node dist/test/bench/read-model.bench.js [docs=100000] [queries=2000]
 *
 * 1. commit throughput (commit calls only): `docs` customer-like documents in batches of 5,000 puts into an
 *    indexed collection (initial load), then the same count of replacing puts (new random managerId / tier /
 *    stage, so most documents move between index buckets).
 * 2. latency percentiles (ms) of findById, the manager-portfolio find (equality on managerId, tier and
 *    risk.level, sorted by monthToDateFen desc, first page of 20) and its count, a portfolio page without
 *    the tier filter (~2% of the documents to sort), an unindexed scan, and a $group over everything.
 */
import { MemoryReadModelStore, type Doc, type Filter } from '@crm/read-model';

const DOCS = Number(process.argv[2] ?? 100_000);
const QUERIES = Number(process.argv[3] ?? 2_000);
const BATCH = 5_000;
const MANAGERS = 50;
const COLLECTION = 'customer_view';

let rng = 20240601;
const random = (): number => (rng = (Math.imul(rng, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly (readonly [T, number])[]): T => {
  let r = random();
  for (const [x, p] of xs) if ((r -= p) < 0) return x;
  return xs[xs.length - 1][0];
};
const TIERS = [['TRANSIENT', 0.5], ['REGULAR', 0.25], ['MIDDLE', 0.13], ['VIP', 0.09], ['PROJECT', 0.03]] as const;
const STAGES = [['ACQUISITION', 0.1], ['ACTIVATION', 0.15], ['RETENTION', 0.55], ['WINBACK', 0.12], ['LOST', 0.08]] as const;
const LEVELS = [['LOW', 0.7], ['MEDIUM', 0.2], ['HIGH', 0.1]] as const;
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const managerId = (i: number): string => `M-${String(i).padStart(3, '0')}`;

function customer(i: number, version: number): Doc {
  const level = pick(LEVELS);
  return {
    _id: `C${String(i).padStart(7, '0')}`,
    name: `${SURNAMES[i % SURNAMES.length]}氏物流有限公司${i}`,
    managerId: managerId(Math.floor(random() * MANAGERS)),
    tier: pick(TIERS),
    stage: pick(STAGES),
    risk: { level, signals: level === 'HIGH' ? ['INACTIVE_30D'] : [] },
    monthToDateFen: Math.floor(random() * 20_000_000),
    lastMonthFen: Math.floor(random() * 20_000_000),
    shipments: Math.floor(random() * 500),
    city: ['上海', '北京', '广州', '深圳', '杭州'][i % 5],
    lastPosition: String(version * DOCS + i),
    updatedAt: '2025-03-01T08:00:00.000+08:00',
  };
}

function percentiles(samples: number[]): Record<string, number> {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s[s.length - 1]) };
}

async function timeEach(n: number, run: (i: number) => Promise<unknown>): Promise<Record<string, number>> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await run(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return percentiles(samples);
}

/** Commits every document in batches; only the commit calls are timed (documents are built beforehand). */
async function commitAll(store: MemoryReadModelStore, version: number): Promise<Record<string, number>> {
  let ns = 0n;
  let position = BigInt(version * DOCS);
  for (let from = 0; from < DOCS; from += BATCH) {
    const writes = [];
    for (let i = from; i < Math.min(DOCS, from + BATCH); i++) writes.push({ put: customer(i, version) });
    position += BigInt(writes.length);
    const t0 = process.hrtime.bigint();
    await store.commit('customer-view', [{ collection: COLLECTION, writes }], position);
    ns += process.hrtime.bigint() - t0;
  }
  const seconds = Number(ns) / 1e9;
  return { docs: DOCS, seconds: Math.round(seconds * 1000) / 1000, docsPerSecond: Math.round(DOCS / seconds) };
}

async function main(): Promise<void> {
  const store = new MemoryReadModelStore();
  await store.ensureIndexes(COLLECTION, [{ managerId: 1, tier: 1, 'risk.level': 1 }, { tier: 1 }, { stage: 1 }]);
  const heap0 = process.memoryUsage().heapUsed;
  const load = await commitAll(store, 0);
  const heapMiB = Math.round((process.memoryUsage().heapUsed - heap0) / 2 ** 20);
  const update = await commitAll(store, 1);

  const portfolioFilter = (i: number): Filter => ({ managerId: managerId((i * 7) % MANAGERS), tier: 'VIP', 'risk.level': 'HIGH' });
  // Warm-up (JIT) before measuring.
  for (let i = 0; i < 200; i++) {
    await store.find(COLLECTION, portfolioFilter(i), { sort: { monthToDateFen: -1 }, skip: 0, limit: 20 });
    await store.count(COLLECTION, portfolioFilter(i));
    await store.findById(COLLECTION, `C${String(i).padStart(7, '0')}`);
  }

  const sizes = await Promise.all(
    Array.from({ length: MANAGERS }, (_, m) => store.count(COLLECTION, { managerId: managerId(m) })),
  );
  const matches = await Promise.all(Array.from({ length: MANAGERS }, (_, m) => store.count(COLLECTION, portfolioFilter(m))));

  const report = {
    docs: DOCS,
    queries: QUERIES,
    node: process.version,
    commit: {
      batchSize: BATCH,
      initialLoad: load,
      replaceAll: update,
      indexes: '{ managerId: 1, tier: 1, risk.level: 1 }, { tier: 1 }, { stage: 1 }',
      heapMiBAfterLoad: heapMiB,
    },
    portfolioShape: {
      docsPerManager: { min: Math.min(...sizes), max: Math.max(...sizes) },
      matchesPerPortfolioQuery: { min: Math.min(...matches), max: Math.max(...matches) },
    },
    latencyMs: {
      findById: await timeEach(QUERIES, () => store.findById(COLLECTION, `C${String(Math.floor(random() * DOCS)).padStart(7, '0')}`)),
      findByIds20: await timeEach(QUERIES, () =>
        store.findByIds(COLLECTION, Array.from({ length: 20 }, () => `C${String(Math.floor(random() * DOCS)).padStart(7, '0')}`)),
      ),
      portfolioFind: await timeEach(QUERIES, (i) =>
        store.find(COLLECTION, portfolioFilter(i), { sort: { monthToDateFen: -1 }, skip: 0, limit: 20 }),
      ),
      portfolioCount: await timeEach(QUERIES, (i) => store.count(COLLECTION, portfolioFilter(i))),
      portfolioFindAndCount: await timeEach(QUERIES, async (i) => {
        await store.find(COLLECTION, portfolioFilter(i), { sort: { monthToDateFen: -1 }, skip: 0, limit: 20 });
        await store.count(COLLECTION, portfolioFilter(i));
      }),
      managerPageAllTiers: await timeEach(QUERIES, (i) =>
        store.find(COLLECTION, { managerId: managerId(i % MANAGERS) }, { sort: { monthToDateFen: -1 }, skip: 40, limit: 20 }),
      ),
      unindexedScanCount: await timeEach(Math.min(QUERIES, 100), (i) =>
        store.count(COLLECTION, { city: '上海', monthToDateFen: { $gt: (i % 10) * 1_000_000 } }),
      ),
      groupByTierAll: await timeEach(Math.min(QUERIES, 20), () =>
        store.aggregate(COLLECTION, [{ $group: { _id: '$tier', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]),
      ),
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
