import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { DomainEvent } from '@crm/contracts';
import { evolve, initialState, type CustomerState } from '@crm/domain';
import { CUSTOMER_STREAM_PREFIX, type StoredEvent } from '@crm/event-store';
import { openEmbeddedWriteSide, sweepAll, type WriteSide } from '@crm/ingest';
import { MemoryReadModelStore } from '@crm/read-model';
import { numberedLines } from '../../../test/support/ndjson';
import { generateScenario, SWEEP_AS_OF } from '../../../test/support/scenario';
import { CustomerViewBuilder } from './customer-view';
import { POSITION_FIELD } from './projection';
import { Projector } from './projector';
import { ALL_VIEWS } from './views';

jest.setTimeout(240_000);

/** The state as JSON, key order included (Customer 360 lists open complaints in the state's order), without the id registry the view never fills. */
const comparable = (s: CustomerState): string => JSON.stringify({ ...s, ids: undefined });

describe('CustomerViewBuilder folds the domain state in place exactly as evolve does', () => {
  let dir: string;
  let w: WriteSide;
  const streams = new Map<string, StoredEvent[]>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-customer-view-'));
    w = openEmbeddedWriteSide(dir);
    for (const f of generateScenario({ seed: 777 }).files) {
      await w.pipeline.ingest(numberedLines(f.content), { source: 'test' });
      await w.periods.close(f.month, w.writer);
    }
    await sweepAll(w.store, w.writer, SWEEP_AS_OF);
    for await (const e of w.store.readAll({ streamPrefix: CUSTOMER_STREAM_PREFIX })) {
      const list = streams.get(e.streamId);
      if (list === undefined) streams.set(e.streamId, [e]);
      else list.push(e);
    }
  });

  afterAll(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after every event of every customer stream', () => {
    const types = new Set<string>();
    const diffs: string[] = [];
    for (const [streamId, events] of streams) {
      const b = new CustomerViewBuilder(streamId.slice(CUSTOMER_STREAM_PREFIX.length));
      let s = initialState();
      for (const e of events) {
        types.add(e.type);
        s = evolve(s, { type: e.type, at: e.metadata.occurredAt, data: e.data } as DomainEvent);
        b.apply(e);
        if (comparable(b.domainState) !== comparable(s)) {
          diffs.push(`${streamId}@${e.revision} ${e.type}`);
          break;
        }
      }
    }
    expect(streams.size).toBeGreaterThan(200);
    // The history exercises every branch of the fold.
    for (const t of ['AccountManagerAssigned', 'ShipmentPickedUp', 'ComplaintFiled', 'ComplaintAcknowledged', 'ComplaintResolved', 'ComplaintSlaBreached', 'PaymentOverdue', 'PaymentSettled', 'TierChanged', 'MonthClosed', 'LifecycleStageChanged', 'ChurnRiskChanged'])
      expect([t, types.has(t)]).toEqual([t, true]);
    expect(diffs).toEqual([]);
  });

  it('a catch-up in many small batches makes the same documents as one batch', async () => {
    const collectionOf = (v: { name: string }) => `${v.name}_x`;
    const dump = async (store: MemoryReadModelStore) => {
      const out: Record<string, string[]> = {};
      for (const v of ALL_VIEWS)
        out[v.name] = (await store.find(collectionOf(v), {}, { sort: { _id: 1 } })).map((d) => JSON.stringify({ ...d, [POSITION_FIELD]: undefined }));
      return out;
    };
    const one = new MemoryReadModelStore();
    await new Projector(w.store, one, ALL_VIEWS, { collectionOf }).catchUp();
    const many = new MemoryReadModelStore();
    let batches = 0;
    await new Projector(w.store, many, ALL_VIEWS, { collectionOf, catchUpBatch: 997, onBatch: () => batches++ }).catchUp();
    expect(batches).toBeGreaterThan(20);
    const a = await dump(one);
    expect(a.customers.length).toBe(streams.size);
    expect(await dump(many)).toEqual(a);
  });

  it('a state read earlier is not changed by later events (complaint objects are replaced, not edited)', () => {
    for (const [streamId, events] of streams) {
      if (!events.some((e) => e.type === 'ComplaintAcknowledged' || e.type === 'ComplaintSlaBreached')) continue;
      const b = new CustomerViewBuilder(streamId.slice(CUSTOMER_STREAM_PREFIX.length));
      const seen: { complaint: object; json: string }[] = [];
      for (const e of events) {
        b.apply(e);
        for (const c of Object.values(b.domainState.openComplaints)) seen.push({ complaint: c, json: JSON.stringify(c) });
      }
      for (const { complaint, json } of seen) expect(JSON.stringify(complaint)).toBe(json);
      return;
    }
    throw new Error('no stream with an acknowledged or breached complaint');
  });
});
