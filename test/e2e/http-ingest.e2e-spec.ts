import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { WriteSide } from '@crm/ingest';
import { RunningApi, startApi, TOKENS } from '../support/api';

const ev = (n: number, over: Record<string, unknown> = {}) => ({
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  type: 'ShipmentPickedUp',
  occurredAt: '2026-03-04T10:00:00+08:00',
  customerId: 'C1',
  data: { waybillNo: `W${n}`, product: 'NEXT_DAY', freightFen: 1200, originCity: '深圳', destinationCity: '上海' },
  ...over,
});

describe('POST /v1/events (embedded)', () => {
  let dir: string;
  let w: WriteSide;
  let api: RunningApi;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-http-'));
    api = await startApi(dir);
    w = api.writeSide;
    base = api.base;
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string, contentType: string) =>
    fetch(`${base}/v1/events`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${TOKENS.ingest}` } });

  it('takes NDJSON: valid lines go through, a bad line is rejected naming the field, and kept in quarantine', async () => {
    const body = [JSON.stringify(ev(1)), '{not json', JSON.stringify(ev(2, { data: { ...ev(2).data, freightFen: -5 } })), '', JSON.stringify(ev(3))].join('\n');
    const res = await post(body, 'application/x-ndjson');
    expect(res.status).toBe(200);
    const r = (await res.json()) as any;
    expect(r).toMatchObject({ accepted: 2, duplicates: 0, rejected: 2 });
    expect(r.rejections).toEqual([
      { line: 2, errors: [expect.stringContaining('not valid JSON')] },
      { line: 3, eventId: ev(2).eventId, errors: ['data.freightFen must be an integer ≥ 0 (fen)'] },
    ]);
    expect(Number(r.position)).toBeGreaterThan(0);
    expect(w.quarantine.list().map((q) => q.line)).toEqual([2, 3]);
  });

  it('takes a JSON array; the same eventIds again are duplicates and append nothing', async () => {
    const head = await w.store.headPosition();
    const res = await post(JSON.stringify([ev(1), ev(3, { data: { ...ev(3).data, freightFen: 999 } }), ev(4)]), 'application/json');
    expect(res.status).toBe(200);
    const r = (await res.json()) as any;
    expect(r).toMatchObject({ accepted: 1, duplicates: 2, rejected: 0 });
    // Read your own write: the read waits until the projections reached the position the ingest returned.
    const customer = (await (await fetch(`${base}/v1/customers/C1?minPosition=${r.position}`, { headers: { authorization: `Bearer ${TOKENS.admin}` } })).json()) as any;
    expect(customer.shipments.total).toBe(3);
    expect(await w.store.headPosition()).toBeGreaterThan(head);
  });

  it('answers 400 naming the problem for an empty body or malformed JSON, and 413 for a body over the limit', async () => {
    const empty = await post('', 'application/x-ndjson');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).message).toMatch(/no events/);
    const broken = await post('[{"eventId": ', 'application/json');
    expect(broken.status).toBe(400);
    const huge = await post('x'.repeat(17 * 1024 * 1024), 'application/x-ndjson');
    expect(huge.status).toBe(413);
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${base}/docs-json`);
    expect(res.status).toBe(200);
    expect(Object.keys(((await res.json()) as any).paths)).toContain('/v1/events');
  });
});
