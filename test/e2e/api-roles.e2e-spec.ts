import { execFile } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { promisify } from 'util';
import { RunningApi, startApi, TOKENS } from '../support/api';
import { requireBuiltCli } from '../support/cli';
import { Answer, canonical, HttpClient, parseCsv, withQuery } from '../support/http';
import { generateScenario, SWEEP_AS_OF, type UpstreamLine } from '../support/scenario';

/**
 * The REST API end to end, over real HTTP, for every view and every role (DESIGN §5): the generated
 * scenario is loaded through the API itself (NDJSON per month with the ingest token, each month closed
 * and a final sweep with the admin token), then every read uses `?minPosition=` with the position the
 * last write returned (read your writes).
 *
 * Expectations come from the scenario and from DESIGN §5, not from the API's own code: who may call what,
 * masking of personal data for analysts, and views that agree with the Customer 360 documents.
 */

jest.setTimeout(600_000);

const ROOT = resolve(__dirname, '../..');
const execFileP = promisify(execFile);

const SEED = 4242;
/** The managers the two manager tokens of test/support/api.ts stand for. */
const ME = 'M1';
const OTHER = 'M2';

const TIER_ORDER = ['TRANSIENT', 'REGULAR', 'MIDDLE', 'VIP', 'PROJECT'];
const STAGE_LIST = ['ACQUISITION', 'ACTIVATION', 'RETENTION', 'WINBACK', 'LOST'];
const RISK_ORDER = ['LOW', 'MEDIUM', 'HIGH'];
const KEY_TIERS = ['VIP', 'PROJECT'];
const ANALYTICS = ['pyramid', 'funnel', 'complaints', 'manager-load'] as const;

/** DESIGN §5 / mask.ts doc: a phone keeps its first 3 and last 4 digits (`138****5678`). */
function expectedMaskedPhone(phone: string): string {
  const d = phone.replace(/\s+/g, '');
  return d.length <= 7 ? '*'.repeat(d.length) : d.slice(0, 3) + '*'.repeat(d.length - 7) + d.slice(-4);
}

/** A masked name keeps at most its first character; the rest is stars (`张**`). Returns why not, or null. */
function nameMaskProblem(masked: unknown, original: string | null): string | null {
  if (original === null) return masked === null ? null : `expected null, got ${JSON.stringify(masked)}`;
  if (typeof masked !== 'string') return `expected a string, got ${JSON.stringify(masked)}`;
  const chars = [...original];
  if (chars.length > 1 && masked === original) return `not masked: ${masked}`;
  if (!/^[^*]?\*+$/u.test(masked) || (masked[0] !== '*' && [...masked][0] !== chars[0])) return `${JSON.stringify(masked)} is not a mask of ${JSON.stringify(original)}`;
  return null;
}

const messages = (a: Answer): string[] => {
  const m = (a.body as { message?: unknown })?.message;
  return Array.isArray(m) ? m.map(String) : m === undefined ? [] : [String(m)];
};

describe('REST API: every view, every role (embedded, over HTTP)', () => {
  const scenario = generateScenario({ seed: SEED });
  const months = scenario.files.map((f) => f.month);
  /** The scenario's own record of assignments: the last AccountManagerAssigned per customer. */
  const assigned = new Map<string, string>();
  for (const f of scenario.files) for (const e of f.acceptedEvents) if (e.type === 'AccountManagerAssigned') assigned.set(e.customerId, e.data.managerId as string);
  /** A line the store already holds: posting it again is a duplicate and changes nothing. */
  const firstEvent: UpstreamLine = scenario.files[0].acceptedEvents[0];
  const duplicateBody = JSON.stringify(firstEvent) + '\n';

  let dir: string;
  let api: RunningApi;
  let http: HttpClient;
  /** The position of the last write (max over every write's answer). */
  let head = 0n;
  const loads: { month: string; ingest: Answer; close: Answer; knownAtClose: number }[] = [];
  let sweep: Answer;
  /** The admin's Customer 360 of every customer (unmasked). */
  const docs = new Map<string, any>();

  const note = (position: unknown) => {
    if (typeof position === 'string' && /^\d+$/.test(position) && BigInt(position) > head) head = BigInt(position);
  };
  /** A read that sees every write so far. */
  const read = (path: string, token: string) => http.get(withQuery(path, 'minPosition', head.toString()), { token });
  const json = async (path: string, token: string = TOKENS.admin) => {
    const r = await read(path, token);
    if (r.status !== 200) throw new Error(`GET ${path} as ${token}: ${r.status} ${r.text}`);
    return r.body;
  };

  /** Every page of a paginated list; checks that pages are disjoint and add up to `total`. */
  async function allPages(path: string, token: string, pageSize: number): Promise<{ items: any[]; total: number; pages: number }> {
    const items: any[] = [];
    let total = -1;
    let page = 1;
    for (; ; page++) {
      const body = await json(withQuery(withQuery(path, 'page', String(page)), 'pageSize', String(pageSize)), token);
      expect([body.page, body.pageSize]).toEqual([page, pageSize]);
      if (total !== -1) expect(body.total).toBe(total);
      total = body.total;
      expect(body.items.length).toBeLessThanOrEqual(pageSize);
      items.push(...body.items);
      if (body.items.length < pageSize || page * pageSize >= total) break;
      if (page > 10_000) throw new Error(`${path}: no end of pages`);
    }
    // One page past the end is empty, with the same total.
    const past = await json(withQuery(withQuery(path, 'page', String(page + 1)), 'pageSize', String(pageSize)), token);
    expect([past.items, past.total]).toEqual([[], total]);
    return { items, total, pages: page };
  }

  const idsOf = (items: { customerId: string }[]) => items.map((i) => i.customerId);
  const docsOf = (managerId: string | null) => [...docs.values()].filter((d) => d.managerId === managerId);
  const customerOf = (managerId: string, pred: (d: any) => boolean = () => true) => {
    const d = docsOf(managerId).find(pred);
    if (!d) throw new Error(`no customer of ${managerId} in the scenario fits`);
    return d;
  };

  interface Endpoint {
    name: string;
    method: 'GET' | 'POST';
    path: string;
    body?: unknown;
    contentType?: string;
  }
  const readEndpoints = (customerId: string, managerId: string): Endpoint[] => [
    { name: 'customer 360', method: 'GET', path: `/v1/customers/${customerId}` },
    { name: 'customer as of', method: 'GET', path: `/v1/customers/${customerId}?asOf=2026-06-01T00:00:00%2B08:00` },
    { name: 'portfolio', method: 'GET', path: `/v1/managers/${managerId}/portfolio` },
    { name: 'manager alerts', method: 'GET', path: `/v1/managers/${managerId}/alerts` },
    { name: 'all alerts', method: 'GET', path: '/v1/alerts' },
    ...ANALYTICS.map((a): Endpoint => ({ name: a, method: 'GET', path: `/v1/analytics/${a}` })),
    ...ANALYTICS.map((a): Endpoint => ({ name: `${a} csv`, method: 'GET', path: `/v1/analytics/${a}?format=csv` })),
  ];
  const analyticsEndpoints = (): Endpoint[] => readEndpoints('x', 'x').filter((e) => e.path.startsWith('/v1/analytics/'));
  /** Valid admin requests whose effect, should a guard let one through, changes nothing (already closed, same sweep, rebuild). */
  const adminEndpoints: Endpoint[] = [
    { name: 'close', method: 'POST', path: `/v1/admin/periods/${months[months.length - 1]}/close` },
    { name: 'sweep', method: 'POST', path: '/v1/admin/sweep', body: { asOf: SWEEP_AS_OF } },
    { name: 'rebuild', method: 'POST', path: '/v1/admin/rebuild' },
  ];
  const ingestEndpoint: Endpoint = { name: 'ingest', method: 'POST', path: '/v1/events', body: duplicateBody, contentType: 'application/x-ndjson' };

  async function call(e: Endpoint, o: { token?: string; authorization?: string }): Promise<Answer> {
    if (e.method === 'GET') return http.get(withQuery(e.path, 'minPosition', head.toString()), o);
    return http.post(e.path, { ...o, body: e.body, contentType: e.contentType });
  }
  /** `METHOD path → status` for every endpoint that does not answer `status`. */
  async function notAnswering(token: string, endpoints: Endpoint[], status: number): Promise<string[]> {
    const out: string[] = [];
    for (const e of endpoints) {
      const r = await call(e, { token });
      if (r.status !== status) out.push(`${e.method} ${e.path} → ${r.status} ${r.text.slice(0, 200)}`);
    }
    return out;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-api-roles-'));
    api = await startApi(dir);
    http = new HttpClient(api.base);
    const known = new Set<string>();
    for (const f of scenario.files) {
      const ingest = await http.post('/v1/events', { token: TOKENS.ingest, body: f.content, contentType: 'application/x-ndjson' });
      note(ingest.body?.position);
      if (ingest.status !== 200) throw new Error(`POST /v1/events (${f.fileName}): ${ingest.status} ${ingest.text.slice(0, 500)}`);
      for (const e of f.acceptedEvents) known.add(e.customerId);
      const close = await http.post(`/v1/admin/periods/${f.month}/close`, { token: TOKENS.admin });
      note(close.body?.position);
      if (close.status !== 200) throw new Error(`close ${f.month}: ${close.status} ${close.text.slice(0, 500)}`);
      loads.push({ month: f.month, ingest, close, knownAtClose: known.size });
    }
    sweep = await http.post('/v1/admin/sweep', { token: TOKENS.admin, body: { asOf: SWEEP_AS_OF } });
    note(sweep.body?.position);
    // The first read after ~50k events may find the projections still catching up: 503 means "retry".
    for (let attempt = 1; ; attempt++) {
      const r = await read('/v1/analytics/manager-load', TOKENS.admin);
      if (r.status === 200) break;
      if (r.status !== 503 || attempt >= 30) throw new Error(`projections did not reach ${head}: ${r.status} ${r.text}`);
    }
    for (const id of scenario.customers) docs.set(id, await json(`/v1/customers/${id}`));
  });

  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('loading the scenario through the API', () => {
    it('every month ingests with the counts the scenario expects, closes for every customer known by then, and the sweep answers 200', () => {
      expect(loads.map((l) => [l.month, l.ingest.status, l.ingest.body.accepted, l.ingest.body.duplicates, l.ingest.body.rejected])).toEqual(
        scenario.files.map((f) => [f.month, 200, f.accepted, f.duplicates, f.rejected]),
      );
      expect(loads.map((l) => [l.month, l.close.status, l.close.body.customers])).toEqual(loads.map((l) => [l.month, 200, l.knownAtClose]));
      expect(sweep.status).toBe(200);
      expect(sweep.body.asOf).toBe(SWEEP_AS_OF);
      expect(head).toBeGreaterThan(0n);
    });

    it('every customer of the scenario has a Customer 360, with the manager the scenario assigned', () => {
      expect(scenario.customers.length).toBeGreaterThan(200);
      expect([...docs.keys()]).toEqual(scenario.customers);
      const wrong = scenario.customers.filter((id) => docs.get(id).managerId !== (assigned.get(id) ?? null) || docs.get(id).customerId !== id);
      expect(wrong).toEqual([]);
      // The two manager tokens stand for managers that have customers here.
      expect(docsOf(ME).length).toBeGreaterThan(0);
      expect(docsOf(OTHER).length).toBeGreaterThan(0);
    });

    it('/ready reports the store at the last write', async () => {
      const r = await http.get('/ready');
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('ready');
      expect(BigInt(r.body.storePosition)).toBe(head);
      // The projections follow the customer streams only: the last write (a period close) may sit above them.
      expect(BigInt(r.body.projectedPosition)).toBeLessThanOrEqual(head);
      expect(BigInt(r.body.projectedPosition)).toBeGreaterThan(0n);
    });
  });

  describe('authentication: 401 without a valid token; public endpoints', () => {
    const invalid: [string, { authorization?: string; token?: string }][] = [
      ['no Authorization header', {}],
      ['a Basic header', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['"Bearer" without a token', { authorization: 'Bearer' }],
      ['a bare token without "Bearer"', { authorization: TOKENS.admin }],
      ['two tokens', { authorization: `Bearer ${TOKENS.admin} ${TOKENS.admin}` }],
      ['an unknown token', { token: 'tok-no-such-token-0001' }],
      ['a known token with another case', { token: TOKENS.admin.toUpperCase() }],
    ];

    it.each(invalid)('%s: 401 on a read, on POST /v1/events, on analytics and on admin endpoints (before any 404 or 400)', async (_, auth) => {
      const endpoints: Endpoint[] = [
        { name: 'customer', method: 'GET', path: `/v1/customers/${scenario.customers[0]}` },
        { name: 'missing customer', method: 'GET', path: '/v1/customers/CNOSUCH0001' },
        { name: 'bad query', method: 'GET', path: `/v1/managers/${ME}/portfolio?tier=GOLD` },
        { name: 'pyramid', method: 'GET', path: '/v1/analytics/pyramid' },
        ingestEndpoint,
        { name: 'ingest garbage', method: 'POST', path: '/v1/events', body: '{not json', contentType: 'application/x-ndjson' },
        ...adminEndpoints,
      ];
      const wrong: string[] = [];
      for (const e of endpoints) {
        const r = await call(e, auth);
        if (r.status !== 401) wrong.push(`${e.method} ${e.path} → ${r.status}`);
        else if (r.body?.statusCode !== 401) wrong.push(`${e.method} ${e.path}: body ${r.text}`);
      }
      expect(wrong).toEqual([]);
    });

    it('/health and /ready answer without a token', async () => {
      const health = await http.get('/health');
      expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
      expect((await http.get('/ready')).status).toBe(200);
    });

    it('/docs-json is served without a token and lists every /v1 route the app serves', async () => {
      const r = await http.get('/docs-json');
      expect(r.status).toBe(200);
      const paths = r.body.paths as Record<string, Record<string, unknown>>;
      const documented = Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
      // Every route the HTTP server actually routes under /v1, as OpenAPI writes it.
      const router = (api.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
      const served = router.stack
        .filter((l) => l.route !== undefined && l.route.path.startsWith('/v1/'))
        .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`));
      const known = [
        'POST /v1/events',
        'POST /v1/admin/periods/{month}/close',
        'POST /v1/admin/sweep',
        'POST /v1/admin/rebuild',
        'GET /v1/customers/{id}',
        'GET /v1/managers/{managerId}/portfolio',
        'GET /v1/managers/{managerId}/alerts',
        'GET /v1/alerts',
        'GET /v1/analytics/pyramid',
        'GET /v1/analytics/funnel',
        'GET /v1/analytics/complaints',
        'GET /v1/analytics/manager-load',
      ];
      expect(served).toEqual(expect.arrayContaining(known));
      expect(served.filter((s) => !documented.includes(s))).toEqual([]);
      expect(known.filter((s) => !documented.includes(s))).toEqual([]);
    });
  });

  describe('ingest role', () => {
    it('may POST /v1/events (an event already held is a duplicate)', async () => {
      const r = await http.post('/v1/events', { token: TOKENS.ingest, body: duplicateBody });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ accepted: 0, duplicates: 1, rejected: 0 });
    });

    it('gets 403 on every read endpoint and every admin endpoint', async () => {
      expect(await notAnswering(TOKENS.ingest, [...readEndpoints(customerOf(ME).customerId, ME), ...adminEndpoints], 403)).toEqual([]);
    });
  });

  describe('manager', () => {
    it("sees its own customer's 360 unmasked (name, contactPhone), equal to the admin's", async () => {
      const own = customerOf(ME, (d) => d.contactPhone !== null && d.name !== null);
      const r = await read(`/v1/customers/${own.customerId}`, TOKENS.managerA);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(own);
      expect(r.body.contactPhone).toMatch(/^\d{11}$/);
      // Every customer of its portfolio, and only those.
      const wrong: string[] = [];
      for (const d of docs.values()) {
        const a = await read(`/v1/customers/${d.customerId}`, TOKENS.managerA);
        const want = d.managerId === ME ? 200 : 404;
        if (a.status !== want) wrong.push(`${d.customerId} (manager ${d.managerId}) → ${a.status}`);
      }
      expect(wrong).toEqual([]);
    });

    it("gets 404 for another manager's customer and for an unassigned one, with the body of a truly missing customer", async () => {
      const other = customerOf(OTHER).customerId;
      const unassigned = docsOf(null)[0].customerId;
      const missing = await read('/v1/customers/CNOSUCH0001', TOKENS.managerA);
      expect(missing.status).toBe(404);
      const shape = (a: Answer, id: string) => JSON.stringify(a.body).split(id).join('<id>');
      for (const id of [other, unassigned]) {
        const r = await read(`/v1/customers/${id}`, TOKENS.managerA);
        expect([id, r.status, shape(r, id)]).toEqual([id, 404, shape(missing, 'CNOSUCH0001')]);
      }
      // The same with ?asOf= (the stream fold): no way round the portfolio.
      const asOf = await read(`/v1/customers/${other}?asOf=${encodeURIComponent(SWEEP_AS_OF)}`, TOKENS.managerA);
      expect(asOf.status).toBe(404);
      const ownAsOf = await read(`/v1/customers/${customerOf(ME).customerId}?asOf=${encodeURIComponent(SWEEP_AS_OF)}`, TOKENS.managerA);
      expect([ownAsOf.status, ownAsOf.body.managerId]).toEqual([200, ME]);
    });

    it("sees its own portfolio (200) and not another manager's (403)", async () => {
      const own = await read(`/v1/managers/${ME}/portfolio?pageSize=200`, TOKENS.managerA);
      expect(own.status).toBe(200);
      expect(idsOf(own.body.items).sort()).toEqual(idsOf(docsOf(ME)).sort());
      // Unmasked names for the manager.
      expect(own.body.items.map((i: any) => i.name)).toEqual(own.body.items.map((i: any) => docs.get(i.customerId).name));
      expect((await read(`/v1/managers/${OTHER}/portfolio`, TOKENS.managerA)).status).toBe(403);
      expect((await read(`/v1/managers/${ME}/portfolio`, TOKENS.managerB)).status).toBe(403);
      expect((await read(`/v1/managers/${OTHER}/portfolio`, TOKENS.managerB)).status).toBe(200);
    });

    it("sees its own alerts (each with its managerId, the same as the admin's list of them) and not another's (403)", async () => {
      for (const [token, me, other] of [[TOKENS.managerA, ME, OTHER], [TOKENS.managerB, OTHER, ME]] as const) {
        const mine = await allPages(`/v1/managers/${me}/alerts`, token, 200);
        expect(mine.total).toBeGreaterThan(0);
        expect(mine.items.filter((a) => a.managerId !== me)).toEqual([]);
        const all = await allPages('/v1/alerts', TOKENS.admin, 200);
        expect(mine.items.map((a) => a.alertId).sort()).toEqual(all.items.filter((a) => a.managerId === me).map((a) => a.alertId).sort());
        expect((await read(`/v1/managers/${other}/alerts`, token)).status).toBe(403);
      }
    });

    it('gets 403 on every-alert list, analytics (JSON and CSV), admin endpoints and POST /v1/events', async () => {
      const endpoints: Endpoint[] = [{ name: 'all alerts', method: 'GET', path: '/v1/alerts' }, ...analyticsEndpoints(), ...adminEndpoints, ingestEndpoint];
      expect(await notAnswering(TOKENS.managerA, endpoints, 403)).toEqual([]);
      expect(await notAnswering(TOKENS.managerB, endpoints, 403)).toEqual([]);
    });
  });

  describe('analyst', () => {
    it('sees every Customer 360 with name and contactPhone masked (phone: first 3 and last 4 digits), everything else as the admin sees it', async () => {
      const wrong: string[] = [];
      let phones = 0;
      for (const d of docs.values()) {
        const r = await read(`/v1/customers/${d.customerId}`, TOKENS.analyst);
        if (r.status !== 200) {
          wrong.push(`${d.customerId} → ${r.status}`);
          continue;
        }
        const { name, contactPhone, ...rest } = r.body;
        const { name: n0, contactPhone: p0, ...rest0 } = d;
        const nameProblem = nameMaskProblem(name, n0);
        if (nameProblem) wrong.push(`${d.customerId} name: ${nameProblem}`);
        if (p0 !== null) {
          phones++;
          if (contactPhone !== expectedMaskedPhone(p0)) wrong.push(`${d.customerId} contactPhone ${contactPhone}, expected ${expectedMaskedPhone(p0)}`);
        } else if (contactPhone !== null) wrong.push(`${d.customerId} contactPhone ${contactPhone}, expected null`);
        if (JSON.stringify(canonical(rest)) !== JSON.stringify(canonical(rest0))) wrong.push(`${d.customerId}: other fields differ from the admin's view`);
        if (r.text.includes(p0 ?? '\u0000') || (n0 !== null && [...n0].length > 1 && r.text.includes(n0))) wrong.push(`${d.customerId}: personal data in the body`);
      }
      expect(phones).toBeGreaterThan(10);
      expect(wrong).toEqual([]);
      const one = [...docs.values()].find((d) => d.contactPhone !== null);
      expect((await read(`/v1/customers/${one.customerId}`, TOKENS.analyst)).body.contactPhone).toMatch(/^\d{3}\*{4}\d{4}$/);
    });

    it('sees the as-of view masked too', async () => {
      const d = [...docs.values()].find((v) => v.contactPhone !== null && v.firstEventAt < '2026-06');
      const r = await read(`/v1/customers/${d.customerId}?asOf=${encodeURIComponent(SWEEP_AS_OF)}`, TOKENS.analyst);
      expect(r.status).toBe(200);
      expect(r.body.contactPhone).toBe(expectedMaskedPhone(d.contactPhone));
      expect(nameMaskProblem(r.body.name, d.name)).toBeNull();
    });

    it('sees the portfolio and alerts of any manager with names masked', async () => {
      const managers = [...new Set([...assigned.values()])].sort();
      expect(managers).toEqual(expect.arrayContaining([ME, OTHER]));
      const wrong: string[] = [];
      for (const m of managers) {
        const p = await allPages(`/v1/managers/${m}/portfolio`, TOKENS.analyst, 50);
        if (p.total !== docsOf(m).length) wrong.push(`portfolio ${m}: total ${p.total}, expected ${docsOf(m).length}`);
        for (const i of p.items) {
          const problem = nameMaskProblem(i.name, docs.get(i.customerId).name);
          if (problem) wrong.push(`portfolio ${m} ${i.customerId}: ${problem}`);
        }
        const a = await allPages(`/v1/managers/${m}/alerts`, TOKENS.analyst, 200);
        for (const i of a.items) {
          const problem = nameMaskProblem(i.customerName, docs.get(i.customerId).name);
          if (problem) wrong.push(`alerts ${m} ${i.alertId}: ${problem}`);
        }
      }
      const all = await allPages('/v1/alerts', TOKENS.analyst, 200);
      expect(all.total).toBeGreaterThan(0);
      for (const i of all.items) {
        const problem = nameMaskProblem(i.customerName, docs.get(i.customerId).name);
        if (problem) wrong.push(`all alerts ${i.alertId}: ${problem}`);
      }
      expect(wrong).toEqual([]);
    });

    it.each(ANALYTICS)('analytics %s: JSON, and ?format=csv as text/csv with a header row and one row per JSON record', async (view) => {
      const j = await read(`/v1/analytics/${view}`, TOKENS.analyst);
      expect(j.status).toBe(200);
      expect(j.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Array.isArray(j.body)).toBe(true);
      expect(j.body.length).toBeGreaterThan(0);
      const c = await read(`/v1/analytics/${view}?format=csv`, TOKENS.analyst);
      expect(c.status).toBe(200);
      expect(c.headers.get('content-type')).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(c.text);
      const col = (row: string[], name: string) => {
        const i = header.indexOf(name);
        if (i < 0) throw new Error(`${view} csv: no column ${name} in ${header.join(',')}`);
        return row[i];
      };
      expect(rows.every((r) => r.length === header.length)).toBe(true);
      // Each CSV row is the JSON record (pyramid: one row per month × tier).
      let expected: string[][];
      let got: string[][];
      if (view === 'pyramid') {
        expected = j.body.flatMap((m: any) => m.tiers.map((t: any) => [m.month, t.tier, String(t.customers), String(t.contributionFen)]));
        got = rows.map((r) => [col(r, 'month'), col(r, 'tier'), col(r, 'customers'), col(r, 'contributionFen')]);
        expect(expected.length).toBe(j.body.length * TIER_ORDER.length);
      } else if (view === 'funnel') {
        expected = j.body.map((m: any) => [m.month, ...STAGE_LIST.map((s) => String(m.stages[s]))]);
        got = rows.map((r) => [col(r, 'month'), ...STAGE_LIST.map((s) => col(r, s))]);
      } else if (view === 'complaints') {
        expected = j.body.map((x: any) => [x.category, x.source, x.tier, String(x.filed), String(x.breached)]);
        got = rows.map((r) => [col(r, 'category'), col(r, 'source'), col(r, 'tier'), col(r, 'filed'), col(r, 'breached')]);
      } else {
        expected = j.body.map((x: any) => [x.managerId ?? '', String(x.customers), String(x.keyAccounts), String(x.overloaded)]);
        got = rows.map((r) => [col(r, 'managerId'), col(r, 'customers'), col(r, 'keyAccounts'), col(r, 'overloaded')]);
      }
      expect(got).toEqual(expected);
    });

    it('gets 403 on admin endpoints and POST /v1/events', async () => {
      expect(await notAnswering(TOKENS.analyst, [...adminEndpoints, ingestEndpoint], 403)).toEqual([]);
    });
  });

  describe('auditor', () => {
    it('sees Customer 360 unmasked, also as of an instant', async () => {
      const d = [...docs.values()].find((v) => v.contactPhone !== null && v.managerId !== null && v.firstEventAt < '2026-03');
      const r = await read(`/v1/customers/${d.customerId}`, TOKENS.auditor);
      expect([r.status, r.body]).toEqual([200, d]);
      const asOf = await read(`/v1/customers/${d.customerId}?asOf=2026-03-03T00:00:00%2B08:00`, TOKENS.auditor);
      expect(asOf.status).toBe(200);
      expect(asOf.body.asOfMonth).toBe('2026-03');
      expect(asOf.body.contactPhone).toBe(d.contactPhone);
    });

    it('sees every analytics view, the same as the analyst', async () => {
      for (const e of analyticsEndpoints()) {
        const a = await read(e.path, TOKENS.auditor);
        const b = await read(e.path, TOKENS.analyst);
        expect([e.path, a.status, a.text]).toEqual([e.path, 200, b.text]);
      }
    });

    it('gets 403 on portfolios, alerts, admin endpoints and POST /v1/events', async () => {
      const endpoints: Endpoint[] = [
        { name: 'portfolio', method: 'GET', path: `/v1/managers/${ME}/portfolio` },
        { name: 'manager alerts', method: 'GET', path: `/v1/managers/${ME}/alerts` },
        { name: 'all alerts', method: 'GET', path: '/v1/alerts' },
        ...adminEndpoints,
        ingestEndpoint,
      ];
      expect(await notAnswering(TOKENS.auditor, endpoints, 403)).toEqual([]);
    });
  });

  describe('admin', () => {
    it('may call every read endpoint and POST /v1/events', async () => {
      expect(await notAnswering(TOKENS.admin, [...readEndpoints(customerOf(OTHER).customerId, OTHER), ingestEndpoint], 200)).toEqual([]);
      const c = await read(`/v1/customers/${customerOf(ME, (d) => d.contactPhone !== null).customerId}`, TOKENS.admin);
      expect(c.body.contactPhone).toMatch(/^\d{11}$/);
    });

    it('closing an already closed month and sweeping again at the same instant answer 200 and change nothing', async () => {
      const close = await http.post(`/v1/admin/periods/${months[months.length - 1]}/close`, { token: TOKENS.admin });
      expect(close.status).toBe(200);
      expect(close.body).toMatchObject({ alreadyClosed: true, customers: 0, tierChanges: 0 });
      const again = await http.post('/v1/admin/sweep', { token: TOKENS.admin, body: { asOf: SWEEP_AS_OF } });
      expect(again.status).toBe(200);
      expect(again.body.changed).toBe(0);
      const ready = await http.get('/ready');
      expect(BigInt(ready.body.storePosition)).toBe(head);
    });
  });

  describe('view contents', () => {
    const sortKey: Record<string, (i: any) => number | string | null> = {
      monthToDateFen: (i) => i.monthToDateFen,
      lastShipmentAt: (i) => i.lastShipmentAt,
      tier: (i) => TIER_ORDER.indexOf(i.tier),
      name: (i) => i.name,
      customerId: (i) => i.customerId,
      riskLevel: (i) => RISK_ORDER.indexOf(i.risk),
    };
    /** MongoDB order: null below every value. */
    const cmp = (a: number | string | null, b: number | string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

    it('portfolio items agree with the Customer 360 of each customer', async () => {
      const wrong: string[] = [];
      for (const m of [ME, OTHER]) {
        const p = await allPages(`/v1/managers/${m}/portfolio`, TOKENS.admin, 200);
        for (const i of p.items) {
          const d = docs.get(i.customerId);
          const want = { customerId: d.customerId, name: d.name, tier: d.tier, stage: d.stage, risk: d.risk.level, monthToDateFen: d.monthToDateFen, lastShipmentAt: d.lastShipmentAt, openComplaints: d.openComplaints.length, overdueFen: d.overdueFen };
          const gotSome = Object.fromEntries(Object.keys(want).map((k) => [k, i[k]]));
          if (JSON.stringify(gotSome) !== JSON.stringify(want)) wrong.push(`${i.customerId}: ${JSON.stringify(gotSome)} vs ${JSON.stringify(want)}`);
        }
      }
      expect(wrong).toEqual([]);
    });

    it('portfolio filters by tier, stage and risk as comma lists (each alone and combined)', async () => {
      const filters: Record<string, string>[] = [
        { tier: 'TRANSIENT' },
        { tier: 'REGULAR,MIDDLE' },
        { tier: 'VIP,PROJECT' },
        { stage: 'RETENTION' },
        { stage: 'WINBACK,LOST' },
        { stage: 'ACQUISITION, ACTIVATION' },
        { risk: 'HIGH' },
        { risk: 'MEDIUM,HIGH' },
        { risk: 'LOW' },
        { tier: 'REGULAR,MIDDLE,VIP', stage: 'RETENTION,WINBACK' },
        { tier: 'TRANSIENT,REGULAR', risk: 'LOW,MEDIUM', stage: 'RETENTION,LOST,WINBACK' },
      ];
      const wrong: string[] = [];
      let proper = 0;
      for (const m of [ME, OTHER]) {
        for (const f of filters) {
          const path = Object.entries(f).reduce((p, [k, v]) => withQuery(p, k, v), `/v1/managers/${m}/portfolio`);
          const got = await allPages(path, TOKENS.admin, 200);
          const list = (k: string) => (f[k] === undefined ? null : f[k].split(',').map((s) => s.trim()));
          const [tiers, stages, risks] = [list('tier'), list('stage'), list('risk')];
          const want = docsOf(m).filter((d) => (!tiers || tiers.includes(d.tier)) && (!stages || stages.includes(d.stage)) && (!risks || risks.includes(d.risk.level)));
          if (got.total !== want.length || JSON.stringify(idsOf(got.items).sort()) !== JSON.stringify(idsOf(want).sort()))
            wrong.push(`${path}: ${got.total} ${idsOf(got.items).sort().join(' ')} vs ${want.length} ${idsOf(want).sort().join(' ')}`);
          if (want.length > 0 && want.length < docsOf(m).length) proper++;
        }
      }
      expect(wrong).toEqual([]);
      // The filters actually select: several pick a proper, non-empty subset.
      expect(proper).toBeGreaterThanOrEqual(6);
    });

    it.each(Object.keys(sortKey).flatMap((s) => [[s, 'asc'], [s, 'desc']]))('portfolio sort=%s order=%s: ordered across pages; pages are disjoint and their union is the portfolio', async (sort, order) => {
      for (const m of [ME, OTHER]) {
        const got = await allPages(`/v1/managers/${m}/portfolio?sort=${sort}&order=${order}`, TOKENS.admin, 4);
        const ids = idsOf(got.items);
        expect(got.pages).toBeGreaterThan(1);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(got.total);
        expect([...ids].sort()).toEqual(idsOf(docsOf(m)).sort());
        const key = sortKey[sort];
        const sign = order === 'asc' ? 1 : -1;
        const bad = got.items.slice(1).map((it, i) => [got.items[i], it]).filter(([a, b]) => sign * cmp(key(a), key(b)) > 0);
        expect(bad.map(([a, b]) => `${a.customerId}=${key(a)} before ${b.customerId}=${key(b)}`)).toEqual([]);
      }
    });

    it('portfolio sorts by monthToDateFen, descending, by default', async () => {
      const dflt = await json(`/v1/managers/${ME}/portfolio?pageSize=200`);
      const values = dflt.items.map((i: any) => i.monthToDateFen);
      expect(values).toEqual([...values].sort((a: number, b: number) => b - a));
    });

    it('alerts filter by kind (one kind and a comma list), for a manager and for all', async () => {
      const all = await allPages('/v1/alerts', TOKENS.admin, 200);
      const kinds = [...new Set(all.items.map((a) => a.kind))].sort();
      expect(kinds.length).toBeGreaterThanOrEqual(2);
      for (const k of kinds) {
        const got = await allPages(`/v1/alerts?kind=${k}`, TOKENS.admin, 200);
        expect([k, got.items.map((a) => a.alertId).sort()]).toEqual([k, all.items.filter((a) => a.kind === k).map((a) => a.alertId).sort()]);
      }
      const two = kinds.slice(0, 2);
      const both = await allPages(`/v1/alerts?kind=${two.join(',')}`, TOKENS.admin, 200);
      expect(both.items.map((a) => a.alertId).sort()).toEqual(all.items.filter((a) => two.includes(a.kind)).map((a) => a.alertId).sort());
      const mine = await allPages(`/v1/managers/${ME}/alerts?kind=${two.join(',')}`, TOKENS.managerA, 200);
      expect(mine.items.map((a) => a.alertId).sort()).toEqual(all.items.filter((a) => two.includes(a.kind) && a.managerId === ME).map((a) => a.alertId).sort());
      // Alerts carry the customer as its Customer 360 says; key accounts without a manager are the unassigned alerts.
      const wrong = all.items.filter((a) => {
        const d = docs.get(a.customerId);
        return a.managerId !== d.managerId || a.customerName !== d.name || a.tier !== d.tier;
      });
      expect(wrong).toEqual([]);
      const unassignedKeyAccounts = [...docs.values()].filter((d) => d.managerId === null && KEY_TIERS.includes(d.tier)).map((d) => d.customerId).sort();
      expect(all.items.filter((a) => a.kind === 'KEY_ACCOUNT_UNASSIGNED').map((a) => a.customerId).sort()).toEqual(unassignedKeyAccounts);
      const pages = await allPages('/v1/alerts', TOKENS.admin, 7);
      expect(new Set(pages.items.map((a) => a.alertId)).size).toBe(all.total);
    });

    it('pyramid: the closed months, each with the customers known at its close (tiers add up)', async () => {
      const p = await json('/v1/analytics/pyramid');
      expect(p.map((m: any) => m.month)).toEqual(months);
      expect(p.map((m: any) => [m.month, m.customers, m.tiers.reduce((a: number, t: any) => a + t.customers, 0)])).toEqual(loads.map((l) => [l.month, l.knownAtClose, l.knownAtClose]));
      expect(p.map((m: any) => m.tiers.map((t: any) => t.tier))).toEqual(months.map(() => TIER_ORDER));
      const ranged = await json('/v1/analytics/pyramid?from=2026-03&to=2026-05');
      expect(ranged).toEqual(p.filter((m: any) => m.month >= '2026-03' && m.month <= '2026-05'));
    });

    it('funnel: stage counts at the last month equal the stages of the Customer 360 documents; a range keeps the counts', async () => {
      const f = await json('/v1/analytics/funnel');
      const last = f[f.length - 1];
      const stages = Object.fromEntries(STAGE_LIST.map((s) => [s, [...docs.values()].filter((d) => d.stage === s).length]));
      expect(last.stages).toEqual(stages);
      expect(Object.values(stages).reduce((a, n) => a + n, 0)).toBe(docs.size);
      expect(f.map((m: any) => m.month).slice(0, months.length)).toEqual(months);
      const ranged = await json('/v1/analytics/funnel?from=2026-03&to=2026-05');
      expect(ranged).toEqual(f.filter((m: any) => m.month >= '2026-03' && m.month <= '2026-05'));
    });

    it('complaints: filings and breaches add up to the Customer 360 counters; month ranges partition them', async () => {
      const c = await json('/v1/analytics/complaints');
      const sum = (rows: any[], k: string) => rows.reduce((a, r) => a + r[k], 0);
      expect(sum(c, 'filed')).toBeGreaterThan(0);
      expect(sum(c, 'filed')).toBe([...docs.values()].reduce((a, d) => a + d.complaintsFiled, 0));
      expect(sum(c, 'ackBreaches') + sum(c, 'resolveBreaches')).toBe([...docs.values()].reduce((a, d) => a + d.slaBreaches, 0));
      expect(c.filter((r: any) => r.breached > r.filed || r.breached > r.ackBreaches + r.resolveBreaches)).toEqual([]);
      let filed = 0;
      for (const m of months) filed += sum(await json(`/v1/analytics/complaints?from=${m}&to=${m}`), 'filed');
      expect(filed).toBe(sum(c, 'filed'));
    });

    it('manager load: customers per manager equal the portfolio totals, key accounts the VIP+PROJECT totals; not overloaded at ≤ 40 key accounts', async () => {
      const load = await json('/v1/analytics/manager-load');
      const managers = [...new Set([...assigned.values()])].sort();
      expect(load.filter((l: any) => l.managerId !== null).map((l: any) => l.managerId).sort()).toEqual(managers);
      for (const l of load) {
        if (l.managerId === null) {
          expect(l.customers).toBe(docsOf(null).length);
          continue;
        }
        const total = (await json(`/v1/managers/${l.managerId}/portfolio?pageSize=1`)).total;
        const key = (await json(`/v1/managers/${l.managerId}/portfolio?pageSize=1&tier=VIP,PROJECT`)).total;
        expect([l.managerId, l.customers, l.keyAccounts]).toEqual([l.managerId, total, key]);
        expect(l.byTier).toEqual(Object.fromEntries(TIER_ORDER.map((t) => [t, docsOf(l.managerId).filter((d) => d.tier === t).length])));
        expect(l.keyAccounts).toBeLessThanOrEqual(40);
        expect(l.overloaded).toBe(false);
      }
      expect(load.reduce((a: number, l: any) => a + l.customers, 0)).toBe(docs.size);
    });
  });

  describe('400 naming the field', () => {
    const someone = 'C100001';
    const cases: [string, string][] = [
      [`/v1/managers/${ME}/portfolio?tier=GOLD`, 'tier'],
      [`/v1/managers/${ME}/portfolio?tier=VIP,GOLD`, 'tier'],
      [`/v1/managers/${ME}/portfolio?stage=DORMANT`, 'stage'],
      [`/v1/managers/${ME}/portfolio?risk=SEVERE`, 'risk'],
      [`/v1/managers/${ME}/portfolio?pageSize=0`, 'pageSize'],
      [`/v1/managers/${ME}/portfolio?pageSize=201`, 'pageSize'],
      [`/v1/managers/${ME}/portfolio?page=0`, 'page'],
      [`/v1/managers/${ME}/portfolio?page=two`, 'page'],
      [`/v1/managers/${ME}/portfolio?sort=bogus`, 'sort'],
      [`/v1/managers/${ME}/portfolio?order=up`, 'order'],
      [`/v1/managers/${ME}/portfolio?colour=red`, 'colour'],
      [`/v1/managers/${ME}/alerts?kind=BOGUS`, 'kind'],
      ['/v1/alerts?pageSize=0', 'pageSize'],
      ['/v1/analytics/pyramid?from=2026-13', 'from'],
      ['/v1/analytics/funnel?to=2026-1', 'to'],
      ['/v1/analytics/complaints?format=xml', 'format'],
      [`/v1/customers/${someone}?asOf=yesterday`, 'asOf'],
      [`/v1/customers/${someone}?asOf=2026-03-03`, 'asOf'],
      // Matches the ISO shape but is no instant: 30 February.
      [`/v1/customers/${someone}?asOf=2026-02-30T00:00:00%2B08:00`, 'asOf'],
      [`/v1/customers/${someone}?minPosition=abc`, 'minPosition'],
      ['/v1/analytics/manager-load?minPosition=-1', 'minPosition'],
    ];

    it.each(cases)('GET %s → 400 naming %s', async (path, field) => {
      const r = await http.get(path, { token: TOKENS.admin });
      expect(r.status).toBe(400);
      expect(messages(r).some((m) => new RegExp(`(^|[^A-Za-z])${field}([^A-Za-z]|$)`).test(m))).toBe(true);
    });

    const bodies: [string, unknown, string][] = [
      ['no asOf', {}, 'asOf'],
      ['asOf=yesterday', { asOf: 'yesterday' }, 'asOf'],
      ['asOf without an offset', { asOf: '2026-09-01T00:00:00' }, 'asOf'],
      ['asOf a number', { asOf: 20260901 }, 'asOf'],
      // The ISO shape, but no calendar date (upstream occurredAt rejects it: "must be a real calendar date and time").
      // Were it accepted, a sweep as of an instant before every customer's last event records nothing.
      ['asOf on 30 February', { asOf: '2026-02-30T00:00:00+08:00' }, 'asOf'],
      ['an unknown field', { asOf: SWEEP_AS_OF, force: true }, 'force'],
    ];
    it.each(bodies)('POST /v1/admin/sweep with %s → 400 naming %s', async (_, body, field) => {
      const r = await http.post('/v1/admin/sweep', { token: TOKENS.admin, body });
      expect(r.status).toBe(400);
      expect(messages(r).some((m) => m.includes(field))).toBe(true);
    });

    it('POST /v1/admin/periods/2026-13/close → 400 naming the month', async () => {
      const r = await http.post('/v1/admin/periods/2026-13/close', { token: TOKENS.admin });
      expect(r.status).toBe(400);
      expect(messages(r).some((m) => m.includes('month'))).toBe(true);
    });
  });

  describe('Customer 360 over HTTP equals `crm export customers`', () => {
    it('for every customer, field by field', async () => {
      const cli = requireBuiltCli();
      const { stdout } = await execFileP('node', [cli, 'export', 'customers'], { cwd: ROOT, env: { ...process.env, CRM_DATA_DIR: dir }, maxBuffer: 1 << 28 });
      const exported = new Map<string, any>();
      for (const line of stdout.split('\n')) if (line.trim() !== '') exported.set(JSON.parse(line).customerId, JSON.parse(line));
      expect([...exported.keys()].sort()).toEqual(scenario.customers);
      // field → customers whose field differs (with the first example).
      const byField = new Map<string, { n: number; example: string }>();
      for (const [id, cliDoc] of exported) {
        const apiDoc = docs.get(id);
        for (const k of new Set([...Object.keys(apiDoc), ...Object.keys(cliDoc)])) {
          const a = JSON.stringify(canonical(apiDoc[k]));
          const b = JSON.stringify(canonical(cliDoc[k]));
          if (a === b) continue;
          const f = byField.get(k) ?? { n: 0, example: `${id}: api ${a ?? '(absent)'} / export ${b ?? '(absent)'}` };
          f.n++;
          byField.set(k, f);
        }
      }
      expect(Object.fromEntries(byField)).toEqual({});
    });
  });

  describe('rebuild (admin)', () => {
    async function snapshot(): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      const byId = (a: any, b: any) => (a.alertId < b.alertId ? -1 : 1);
      for (const id of scenario.customers) out[`customer ${id}`] = JSON.stringify(canonical(await json(`/v1/customers/${id}`)));
      const managers = [...new Set([...assigned.values()])].sort();
      for (const m of managers) {
        out[`portfolio ${m}`] = JSON.stringify(canonical((await allPages(`/v1/managers/${m}/portfolio?sort=customerId&order=asc`, TOKENS.admin, 5)).items));
        out[`alerts ${m}`] = JSON.stringify(canonical((await allPages(`/v1/managers/${m}/alerts`, TOKENS.admin, 200)).items.sort(byId)));
      }
      out.alerts = JSON.stringify(canonical((await allPages('/v1/alerts', TOKENS.admin, 200)).items.sort(byId)));
      for (const a of ANALYTICS) out[a] = JSON.stringify(canonical(await json(`/v1/analytics/${a}`)));
      return out;
    }

    it('POST /v1/admin/rebuild → 200, and afterwards every view answers as before', async () => {
      const before = await snapshot();
      const r = await http.post('/v1/admin/rebuild', { token: TOKENS.admin });
      expect(r.status).toBe(200);
      expect(r.body.generation).toBeGreaterThanOrEqual(2);
      expect(r.body.events).toBeGreaterThan(40_000);
      const after = await snapshot();
      expect(Object.keys(after)).toEqual(Object.keys(before));
      expect(Object.keys(before).filter((k) => before[k] !== after[k])).toEqual([]);
      expect(Object.keys(before).length).toBeGreaterThan(scenario.customers.length + 10);
    });
  });

  describe('audit (auditor; admin)', () => {
    const raisedVip = { tierFloorsFen: { VIP: 1_500_000 } };
    const auditEndpoints = (customerId: string): Endpoint[] => [
      { name: 'history', method: 'GET', path: `/v1/customers/${customerId}/history` },
      { name: 'explain', method: 'GET', path: `/v1/customers/${customerId}/explain` },
      { name: 'quarantine', method: 'GET', path: '/v1/quarantine' },
      { name: 'verify', method: 'POST', path: '/v1/audit/verify' },
    ];
    const policyReads: Endpoint[] = [
      { name: 'what-if', method: 'POST', path: '/v1/audit/what-if', body: raisedVip },
      { name: 'policies', method: 'GET', path: '/v1/policies' },
    ];
    /** Refused by the guard before the body is read: it would otherwise be a 409 (the month is closed). */
    const adopt: Endpoint = { name: 'adopt', method: 'POST', path: '/v1/admin/policies', body: { effectiveFrom: months[0], ...raisedVip } };

    it('403 for every other role, analysts may read policies and ask what-if', async () => {
      const id = customerOf(ME).customerId;
      for (const token of [TOKENS.ingest, TOKENS.managerA, TOKENS.managerB]) expect(await notAnswering(token, [...auditEndpoints(id), ...policyReads, adopt], 403)).toEqual([]);
      expect(await notAnswering(TOKENS.analyst, [...auditEndpoints(id), adopt], 403)).toEqual([]);
      expect(await notAnswering(TOKENS.analyst, policyReads, 200)).toEqual([]);
      expect(await notAnswering(TOKENS.auditor, [adopt], 403)).toEqual([]);
    });

    it("history: a customer's whole stream with metadata and an intact hash chain; 404 for an unknown customer", async () => {
      const d = customerOf(OTHER);
      const r = await http.get(`/v1/customers/${d.customerId}/history`, { token: TOKENS.auditor });
      expect(r.status).toBe(200);
      const events = r.body.events as any[];
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
      for (const e of events) {
        expect(e.streamId).toBe(`customer-${d.customerId}`);
        expect(BigInt(e.position)).toBeLessThanOrEqual(head);
        expect(e.metadata).toEqual(expect.objectContaining({ correlationId: expect.any(String), causationId: expect.any(String), occurredAt: expect.any(String), recordedAt: expect.any(String), hash: expect.stringMatching(/^[0-9a-f]{64}$/) }));
        if (e.metadata.upstreamEventId === e.id) expect(e.metadata.causationId).toBe(e.id);
        if (['TierChanged', 'LifecycleStageChanged', 'MonthClosed'].includes(e.type)) expect(e.metadata.policyVersion).toBe(1);
      }
      expect(events.length).toBeGreaterThan(d.shipments.total);
      expect((await http.get('/v1/customers/CNOSUCH0001/history', { token: TOKENS.auditor })).status).toBe(404);
    });

    it('explain: every tier decision with its numbers, rule and policy version', async () => {
      const d = [...docs.values()].find((v) => v.tier !== 'TRANSIENT');
      const r = await http.get(`/v1/customers/${d.customerId}/explain`, { token: TOKENS.auditor });
      expect(r.status).toBe(200);
      const tier = (r.body.explanations as any[]).filter((l) => l.type === 'TierChanged');
      expect(tier.length).toBeGreaterThan(0);
      expect(tier[tier.length - 1].text).toMatch(new RegExp(`^\\d{4}-\\d{2} (upgraded|downgraded) [A-Z]+ → ${d.tier}: .* \\(policy v1, (upgrade|downgrade) rule\\)$`));
      const all = await http.get(`/v1/customers/${d.customerId}/explain?all=true`, { token: TOKENS.auditor });
      expect(all.body.explanations.length).toBeGreaterThan(r.body.explanations.length);
    });

    it('quarantine: every rejected line of the scenario with its raw text and reasons', async () => {
      const r = await http.get('/v1/quarantine?limit=1000', { token: TOKENS.auditor });
      expect(r.status).toBe(200);
      expect(r.body.total).toBeGreaterThan(0);
      expect(r.body.total).toBeLessThanOrEqual(scenario.stats.rejected);
      for (const q of r.body.items) expect([typeof q.raw, q.errors.length > 0]).toEqual(['string', true]);
      expect((await http.get('/v1/quarantine?limit=0', { token: TOKENS.auditor })).status).toBe(400);
    });

    it('knownAt: nothing was known before the first import; far enough ahead it is the live Customer 360', async () => {
      const d = customerOf(ME);
      expect((await read(`/v1/customers/${d.customerId}?knownAt=2020-01-01T00:00:00Z`, TOKENS.auditor)).status).toBe(404);
      const later = await read(`/v1/customers/${d.customerId}?knownAt=2100-01-01T00:00:00%2B08:00`, TOKENS.auditor);
      expect([later.status, later.body]).toEqual([200, d]);
      expect((await read(`/v1/customers/${d.customerId}?knownAt=yesterday`, TOKENS.auditor)).status).toBe(400);
    });

    it('verify: clean — every stream re-derives identically, every chain holds, the projections equal a fresh rebuild', async () => {
      const r = await http.post('/v1/audit/verify', { token: TOKENS.auditor });
      expect(r.status).toBe(200);
      expect({ chain: r.body.history.chain.slice(0, 5), derived: r.body.history.derived.slice(0, 5), projections: r.body.projections.items.slice(0, 5) }).toEqual({ chain: [], derived: [], projections: [] });
      expect(r.body.clean).toBe(true);
      expect(r.body.history).toMatchObject({ customers: scenario.customers.length, chainBreaks: 0, derivedDifferences: 0 });
      expect(r.body.projections.differences).toBe(0);
      expect(r.body.projections.documents).toBeGreaterThan(scenario.customers.length);
    });

    it('what-if: raised VIP floors move only VIP customers, records nothing; a bad policy is a 400 naming the field', async () => {
      const r = await http.post('/v1/audit/what-if', { token: TOKENS.auditor, body: raisedVip });
      expect(r.status).toBe(200);
      expect(r.body.customers).toBe(scenario.customers.length);
      expect(Object.keys(r.body.moves).every((m) => m.startsWith('VIP → '))).toBe(true);
      for (const c of r.body.changes) for (const m of c.months) expect([m.current, m.proposed]).toEqual(['VIP', expect.stringMatching(/^(MIDDLE|REGULAR|TRANSIENT)$/)]);
      const bad = await http.post('/v1/audit/what-if', { token: TOKENS.auditor, body: { tierFloorsFen: { VIP: -1 }, colour: 'red' } });
      expect(bad.status).toBe(400);
      expect(messages(bad)).toEqual(['tierFloorsFen.VIP must be an integer ≥ 0', 'colour is not a policy setting']);
      expect((await http.get('/ready')).body.storePosition).toBe(head.toString());
    });

    it('admin adopts a policy version from a month after the last close (409 for a closed month); verify stays clean', async () => {
      const closed = await http.post('/v1/admin/policies', { token: TOKENS.admin, body: { effectiveFrom: months[months.length - 1], ...raisedVip } });
      expect(closed.status).toBe(409);
      expect(messages(closed).join(' ')).toContain('never rewrites history');
      const r = await http.post('/v1/admin/policies', { token: TOKENS.admin, body: { effectiveFrom: '2026-10', ...raisedVip } });
      expect(r.status).toBe(201);
      expect(r.body.policy).toMatchObject({ version: 2, effectiveFrom: '2026-10', tierFloorsFen: expect.objectContaining({ VIP: 1_500_000, MIDDLE: 200_000 }) });
      note(r.body.position);
      const list = await http.get('/v1/policies', { token: TOKENS.auditor });
      expect(list.body.map((p: any) => [p.version, p.effectiveFrom, p.adoptedAt === null])).toEqual([[1, '0001-01', true], [2, '2026-10', false]]);
      const v = await http.post('/v1/audit/verify', { token: TOKENS.auditor });
      expect([v.body.clean, v.body.history.derivedDifferences]).toEqual([true, 0]);
    });
  });
});

describe('read your writes (embedded, over HTTP)', () => {
  let dir: string;
  let api: RunningApi;
  let http: HttpClient;

  const shipment = (customer: number, n: number) => ({
    eventId: `00000000-0000-4000-9000-${String(customer * 100 + n).padStart(12, '0')}`,
    type: 'ShipmentPickedUp',
    occurredAt: `2026-04-${String(1 + (n % 20)).padStart(2, '0')}T10:00:00+08:00`,
    customerId: `CRYW${String(customer).padStart(4, '0')}`,
    data: { waybillNo: `RYW${customer}-${n}`, product: 'NEXT_DAY', freightFen: 1500, originCity: '深圳', destinationCity: '上海' },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-api-ryw-'));
    api = await startApi(dir);
    http = new HttpClient(api.base);
  });
  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an ingest followed at once by a read with its minPosition sees the new events', async () => {
    const body = Array.from({ length: 300 }, (_, c) => Array.from({ length: 10 }, (_, n) => JSON.stringify(shipment(c, n)))).flat().join('\n');
    const w = await http.post('/v1/events', { token: TOKENS.ingest, body });
    expect(w.status).toBe(200);
    expect(w.body.accepted).toBe(3000);
    const pos = w.body.position as string;
    const r = await http.get(`/v1/customers/CRYW0299?minPosition=${pos}`, { token: TOKENS.admin });
    expect(r.status).toBe(200);
    expect(r.body.shipments.total).toBe(10);
    expect(BigInt(r.headers.get('x-read-position') ?? '0')).toBeGreaterThanOrEqual(BigInt(pos));
    const load = await http.get(`/v1/analytics/manager-load?minPosition=${pos}`, { token: TOKENS.analyst });
    expect(load.body).toEqual([expect.objectContaining({ managerId: null, customers: 300 })]);
  });

  it('a second write to the same customer is seen with its position, also given as the X-Min-Position header', async () => {
    const w = await http.post('/v1/events', { token: TOKENS.ingest, body: [shipment(299, 50), shipment(299, 51)] });
    expect(w.body.accepted).toBe(2);
    const r = await http.get('/v1/customers/CRYW0299', { token: TOKENS.admin, headers: { 'x-min-position': w.body.position } });
    expect(r.status).toBe(200);
    expect(r.body.shipments.total).toBe(12);
  });

  it('a read at the position a period close returned sees the close, and its X-Read-Position is not below that position', async () => {
    const close = await http.post('/v1/admin/periods/2026-04/close', { token: TOKENS.admin });
    expect(close.status).toBe(200);
    expect(close.body.customers).toBe(300);
    const r = await http.get(`/v1/analytics/pyramid?minPosition=${close.body.position}`, { token: TOKENS.analyst });
    expect(r.status).toBe(200);
    expect(r.body.map((m: any) => [m.month, m.customers])).toEqual([['2026-04', 300]]);
    // "Every read answers with the position it reflects in X-Read-Position" (read-your-writes.ts).
    expect(BigInt(r.headers.get('x-read-position') ?? '-1')).toBeGreaterThanOrEqual(BigInt(close.body.position));
  });

  it('a minPosition beyond the head answers 503 after the bounded wait', async () => {
    const ready = await http.get('/ready');
    const beyond = BigInt(ready.body.storePosition) + 1_000_000n;
    const r = await http.get(`/v1/customers/CRYW0001?minPosition=${beyond}`, { token: TOKENS.admin });
    expect(r.status).toBe(503);
    expect(messages(r).join(' ')).toContain(String(beyond));
  });
});
