import { DomainEvent } from '@crm/contracts';
import { ack, close, complaint, register, resolve, ship, spec, sweep, upstream } from '../../../../test/support/decider-specification';
import { createCustomerDecider, customerDecider, UncheckedEventIdError } from './decide';
import { POLICY_V1, PolicyBook, tierFor } from '../policy';
import { formatInstant, monthOf, parseInstant } from '../calendar';
import { addContribution, contributionOf, contributionsByMonth, initialState, type MonthContribution } from './state';
import type { CustomerCommand, RecordFact } from './commands';

const types = (events: DomainEvent[]) => events.map((e) => e.type);
const stageChanges = (events: DomainEvent[]) =>
  events.flatMap((e) => (e.type === 'LifecycleStageChanged' ? [[e.data.from, e.data.to, e.data.effectiveAt]] : []));
const tierChanges = (events: DomainEvent[]) => events.flatMap((e) => (e.type === 'TierChanged' ? [[e.data.from, e.data.to, e.data.rule]] : []));

/** A customer with `n` months of the same contribution, each closed. */
function monthsAt(fen: number, months: string[]) {
  return months.flatMap((m) => [ship(`${m}-10T10:00:00+08:00`, fen), close(m)]);
}

describe('customer decider — tiers (DESIGN §4.1)', () => {
  it.each([
    [29_999, 'TRANSIENT'],
    [30_000, 'REGULAR'],
    [199_999, 'REGULAR'],
    [200_000, 'MIDDLE'],
    [999_999, 'MIDDLE'],
    [1_000_000, 'VIP'],
    [9_999_999, 'VIP'],
    [10_000_000, 'PROJECT'],
  ])('a month with %i fen earns %s', (fen, tier) => {
    expect(tierFor(fen, POLICY_V1)).toBe(tier);
    const { events } = spec()
      .given(register('2026-01-02T09:00:00+08:00'), ship('2026-01-05T10:00:00+08:00', fen))
      .when(close('2026-01'));
    if (tier === 'TRANSIENT') expect(tierChanges(events)).toEqual([]);
    else expect(tierChanges(events)).toEqual([['TRANSIENT', tier, 'UPGRADE']]);
  });

  it('exactly 300.00 元 upgrades to REGULAR; 299.99 元 stays TRANSIENT', () => {
    spec()
      .given(ship('2026-03-01T00:00:00+08:00', 30_000))
      .when(close('2026-03'))
      .thenOfType(['TierChanged'], [{ at: '2026-04-01T00:00:00.000+08:00', data: { from: 'TRANSIENT', to: 'REGULAR', month: '2026-03', contributionFen: 30_000, policyVersion: 1 } }]);
    spec().given(ship('2026-03-01T00:00:00+08:00', 29_999)).when(close('2026-03')).thenOfType(['TierChanged'], []);
  });

  it('records the decision with its inputs, policy version and reason, effective on the 1st of the next month', () => {
    const { events } = spec().given(ship('2026-03-05T10:00:00+08:00', 1_234_000)).when(close('2026-03'));
    expect(events).toContainEqual({
      type: 'TierChanged',
      at: '2026-04-01T00:00:00.000+08:00',
      data: {
        from: 'TRANSIENT',
        to: 'VIP',
        month: '2026-03',
        contributionFen: 1_234_000,
        rule: 'UPGRADE',
        inputs: { window: { '2026-03': 1_234_000, '2026-02': 0, '2026-01': 0 }, thresholdFen: 1_000_000, floorTier: 'VIP' },
        reason: '2026-03 upgraded TRANSIENT → VIP: contribution 12,340.00 元 ≥ 10,000.00 元 (policy v1, upgrade rule)',
        policyVersion: 1,
        effectiveAt: '2026-04-01T00:00:00.000+08:00',
      },
    });
    expect(events).toContainEqual({
      type: 'MonthClosed',
      at: '2026-04-01T00:00:00.000+08:00',
      data: { month: '2026-03', contributionFen: 1_234_000, tier: 'VIP', policyVersion: 1, effectiveAt: '2026-04-01T00:00:00.000+08:00' },
    });
  });

  it('23:59:59+08:00 on the last day counts in that month; 00:00:00+08:00 in the next — and the same instants written in UTC', () => {
    for (const [lastSecond, firstSecond] of [
      ['2026-01-31T23:59:59+08:00', '2026-02-01T00:00:00+08:00'],
      ['2026-01-31T15:59:59Z', '2026-01-31T16:00:00Z'],
      ['2026-01-31T15:59:59+00:00', '2026-01-31T16:00:00.000+00:00'],
    ]) {
      expect(monthOf(parseInstant(lastSecond))).toBe('2026-01');
      expect(monthOf(parseInstant(firstSecond))).toBe('2026-02');
      const s = spec().given(ship(lastSecond, 20_000), ship(firstSecond, 20_000));
      s.when(close('2026-01')).thenOfType(['MonthClosed'], [{ data: { month: '2026-01', contributionFen: 20_000, tier: 'TRANSIENT' } }]);
      const after = spec().given(ship(lastSecond, 20_000), ship(firstSecond, 20_000), close('2026-01'));
      after.when(close('2026-02')).thenOfType(['MonthClosed'], [{ data: { contributionFen: 20_000 } }]);
    }
  });

  it('upgrades fast: one month above the current tier is enough, even skipping tiers', () => {
    const { events } = spec()
      .given(monthsAt(40_000, ['2026-01']))
      .when(ship('2026-02-03T10:00:00+08:00', 10_000_000));
    expect(tierChanges(events)).toEqual([]); // tiers change only when a month closes
    spec()
      .given(monthsAt(40_000, ['2026-01']), ship('2026-02-03T10:00:00+08:00', 10_000_000))
      .when(close('2026-02'))
      .thenOfType(['TierChanged'], [{ data: { from: 'REGULAR', to: 'PROJECT', rule: 'UPGRADE' } }]);
  });

  it('downgrades slowly: only after three closed months in a row below the current tier, to the floor of the best of them', () => {
    const history = [monthsAt(1_000_000, ['2026-01']), monthsAt(250_000, ['2026-02']), monthsAt(40_000, ['2026-03'])];
    // Feb and Mar are below VIP but January (VIP) is still in the window: no downgrade yet.
    const g = spec().given(...history);
    expect(g.state.tier).toBe('VIP');
    // April: the window is Feb (MIDDLE), Mar (REGULAR), Apr (nothing) → floor MIDDLE.
    g.when(close('2026-04')).thenOfType(['TierChanged'], [{ data: { from: 'VIP', to: 'MIDDLE', rule: 'DOWNGRADE', inputs: { floorTier: 'MIDDLE', thresholdFen: 1_000_000 } } }]);
  });

  it('a month at the current tier within the window keeps the tier (hysteresis)', () => {
    const g = spec().given(monthsAt(300_000, ['2026-01']), monthsAt(10_000, ['2026-02', '2026-03']), monthsAt(250_000, ['2026-04']), monthsAt(0, ['2026-05']));
    expect(g.state.tier).toBe('MIDDLE');
    g.when(close('2026-06')).thenOfType(['TierChanged'], []); // Apr is MIDDLE and still in the window
  });

  it('months before the first event count as 0 and the customer starts TRANSIENT', () => {
    spec()
      .given(ship('2026-05-20T10:00:00+08:00', 100_000))
      .when(close('2026-05'))
      .thenOfType(['TierChanged', 'MonthClosed'], [{ data: { from: 'TRANSIENT', to: 'REGULAR', inputs: { window: { '2026-05': 100_000, '2026-04': 0, '2026-03': 0 } } } }, { type: 'MonthClosed' }]);
  });

  it('closing a month again, or an older month, records nothing', () => {
    const g = spec().given(ship('2026-05-20T10:00:00+08:00', 100_000), close('2026-05'));
    g.when(close('2026-05')).thenNothing();
    g.when(close('2026-04')).thenNothing();
  });

  it('a close for a customer with no events records nothing', () => {
    spec().given().when(close('2026-05')).thenNothing();
  });

  it('a late shipment for a closed month is recorded, marked late, counted from then on, and does not reopen the decision', () => {
    const g = spec().given(ship('2026-01-10T10:00:00+08:00', 20_000), close('2026-01'));
    const late = g.when(ship('2026-01-20T10:00:00+08:00', 1_500_000));
    expect(late.events[0]).toMatchObject({ type: 'ShipmentPickedUp', data: { late: true, freightFen: 1_500_000 } });
    expect(tierChanges(late.events)).toEqual([]);
    expect(contributionOf(late.state, '2026-01')).toBe(1_520_000);
    expect(late.state.tier).toBe('TRANSIENT');
    // A late shipment for a month closed for everyone before this customer existed is late too.
    spec().given().when(ship('2026-01-20T10:00:00+08:00', 100, { closedThrough: '2026-02' })).thenOfType(['ShipmentPickedUp'], [{ data: { late: true } }]);
  });

  it('a late shipment counts in the later three-month floor', () => {
    // VIP in Jan; Feb small; a late Feb shipment of VIP size arrives after Feb's close.
    const g = spec().given(monthsAt(1_000_000, ['2026-01']), monthsAt(10_000, ['2026-02']), ship('2026-02-20T10:00:00+08:00', 1_000_000), monthsAt(10_000, ['2026-03']));
    // April close: window Feb (late-counted VIP), Mar, Apr: no downgrade.
    g.when(close('2026-04')).thenOfType(['TierChanged'], []);
  });
});

describe('customer decider — lifecycle (DESIGN §4.2)', () => {
  it('the first event of any kind puts a new customer in ACQUISITION at that event', () => {
    spec()
      .given()
      .when(register('2026-03-01T09:00:00+08:00'))
      .thenOfType(['LifecycleStageChanged'], [{ at: '2026-03-01T09:00:00.000+08:00', data: { from: null, to: 'ACQUISITION', reason: 'FIRST_EVENT', policyVersion: 1 } }]);
  });

  it('the first shipment activates, effective at that shipment', () => {
    const { events } = spec().given(register('2026-03-01T09:00:00+08:00')).when(ship('2026-03-04T11:00:00+08:00', 1500));
    expect(types(events)).toEqual(['ShipmentPickedUp', 'LifecycleStageChanged']);
    expect(stageChanges(events)).toEqual([['ACQUISITION', 'ACTIVATION', '2026-03-04T11:00:00.000+08:00']]);
  });

  it('a first event that is a shipment records ACQUISITION then ACTIVATION at the same instant', () => {
    const { events } = spec().given().when(ship('2026-03-04T11:00:00+08:00', 1500));
    expect(stageChanges(events)).toEqual([
      [null, 'ACQUISITION', '2026-03-04T11:00:00.000+08:00'],
      ['ACQUISITION', 'ACTIVATION', '2026-03-04T11:00:00.000+08:00'],
    ]);
  });

  it('three shipments on one day do not retain; a third shipment on a second day does', () => {
    const oneDay = spec().given(ship('2026-03-04T09:00:00+08:00', 1), ship('2026-03-04T12:00:00+08:00', 1));
    oneDay.when(ship('2026-03-04T23:59:59+08:00', 1)).thenOfType(['LifecycleStageChanged'], []);
    const twoDays = spec().given(ship('2026-03-04T09:00:00+08:00', 1), ship('2026-03-04T12:00:00+08:00', 1), ship('2026-03-04T23:59:59+08:00', 1));
    expect(twoDays.state.stage).toBe('ACTIVATION');
    twoDays
      .when(ship('2026-03-05T00:00:00+08:00', 1))
      .thenOfType(['LifecycleStageChanged'], [{ at: '2026-03-05T00:00:00.000+08:00', data: { from: 'ACTIVATION', to: 'RETENTION', reason: 'REPEAT_SHIPMENTS' } }]);
  });

  it('days are counted in UTC+8: 15:59Z and 16:00Z on the same UTC date are two business days', () => {
    spec()
      .given(ship('2026-03-04T15:59:00Z', 1), ship('2026-03-04T15:59:30Z', 1))
      .when(ship('2026-03-04T16:00:00Z', 1))
      .thenOfType(['LifecycleStageChanged'], [{ data: { to: 'RETENTION' } }]);
  });

  const retained = [ship('2026-01-05T10:00:00+08:00', 1), ship('2026-01-06T10:00:00+08:00', 1), ship('2026-01-10T10:00:00+08:00', 1)];

  it('exactly 60 days without a shipment makes WINBACK due; one second less does not', () => {
    spec().given(retained).when(sweep('2026-03-11T09:59:59+08:00')).thenOfType(['LifecycleStageChanged'], []);
    spec()
      .given(retained)
      .when(sweep('2026-03-11T10:00:00+08:00'))
      .thenOfType(['LifecycleStageChanged'], [{ at: '2026-03-11T10:00:00.000+08:00', data: { from: 'RETENTION', to: 'WINBACK', reason: 'INACTIVE_60D' } }]);
  });

  it('ACTIVATION also goes to WINBACK after 60 days', () => {
    spec()
      .given(ship('2026-01-05T10:00:00+08:00', 1))
      .when(sweep('2026-03-06T10:00:00+08:00'))
      .thenOfType(['LifecycleStageChanged'], [{ data: { from: 'ACTIVATION', to: 'WINBACK' } }]);
  });

  it('exactly 180 days after the last shipment WINBACK becomes LOST; one second less does not', () => {
    const g = spec().given(retained, sweep('2026-03-20T00:00:00+08:00'));
    expect(g.state.stage).toBe('WINBACK');
    g.when(sweep('2026-07-09T09:59:59+08:00')).thenOfType(['LifecycleStageChanged'], []);
    g.when(sweep('2026-07-09T10:00:00+08:00')).thenOfType(['LifecycleStageChanged'], [{ at: '2026-07-09T10:00:00.000+08:00', data: { from: 'WINBACK', to: 'LOST', reason: 'INACTIVE_180D' } }]);
  });

  it('one gap can make several transitions due: the next event records them first, each at its own time, then itself', () => {
    const { events } = spec().given(retained).when(ship('2026-09-01T10:00:00+08:00', 5000));
    expect(types(events).filter((t) => t !== 'ChurnRiskChanged')).toEqual(['LifecycleStageChanged', 'LifecycleStageChanged', 'ShipmentPickedUp', 'LifecycleStageChanged']);
    expect(stageChanges(events)).toEqual([
      ['RETENTION', 'WINBACK', '2026-03-11T10:00:00.000+08:00'],
      ['WINBACK', 'LOST', '2026-07-09T10:00:00.000+08:00'],
      ['LOST', 'RETENTION', '2026-09-01T10:00:00.000+08:00'],
    ]);
    expect(events.filter((e) => e.type === 'LifecycleStageChanged').at(-1)).toMatchObject({ data: { reason: 'WON_BACK' } });
  });

  it('any event type triggers the due transitions, with T = its occurredAt', () => {
    spec()
      .given(retained)
      .when(upstream('PrepaidDeposited', '2026-04-01T10:00:00+08:00', { amountFen: 100 }))
      .thenOfType(['LifecycleStageChanged'], [{ data: { to: 'WINBACK' } }]);
  });

  it('a won-back customer goes to RETENTION whatever its shipment count', () => {
    const g = spec().given(ship('2026-01-05T10:00:00+08:00', 1), sweep('2026-03-07T00:00:00+08:00'));
    expect(g.state.stage).toBe('WINBACK');
    expect(g.state.shipmentCount).toBe(1);
    g.when(ship('2026-03-08T10:00:00+08:00', 1)).thenOfType(['LifecycleStageChanged'], [{ data: { from: 'WINBACK', to: 'RETENTION', reason: 'WON_BACK' } }]);
  });

  it('the history is the same whether or not, and whenever, sweeps ran', () => {
    const later = [ship('2026-06-01T10:00:00+08:00', 1), complaint('2026-06-02T10:00:00+08:00', 'K1'), ship('2026-12-24T10:00:00+08:00', 1)];
    const history = (sweeps: string[]) => {
      const cmds = [...retained, ...later, ...sweeps.map(sweep)].sort((a, b) => at(a).localeCompare(at(b)));
      return spec().given(cmds).state;
    };
    const at = (c: ReturnType<typeof sweep>) => (c.type === 'Sweep' ? c.asOf : c.type === 'RecordFact' ? c.event.occurredAt : '');
    const eventsOf = (sweeps: string[]) => {
      let s = spec().given().state;
      const out: DomainEvent[] = [];
      for (const c of [...retained, ...later, ...sweeps.map(sweep)].sort((a, b) => parseInstant(at(a)) - parseInstant(at(b)))) {
        const ev = customerDecider.decide(c, s);
        for (const e of ev) s = customerDecider.evolve(s, e);
        out.push(...ev.filter((e) => e.type !== 'ShipmentPickedUp' && e.type !== 'ComplaintFiled'));
      }
      return out;
    };
    const none = eventsOf([]);
    expect(eventsOf(['2026-03-15T00:00:00+08:00', '2026-05-01T00:00:00+08:00'])).toEqual(none);
    expect(eventsOf(['2026-02-01T00:00:00+08:00', '2026-08-01T00:00:00+08:00', '2026-10-30T00:00:00+08:00', '2026-11-30T00:00:00+08:00'])).toEqual(none);
    expect(history([])).toBeDefined();
  });

  it('an out-of-order older shipment counts but never moves the last shipment back', () => {
    const g = spec().given(ship('2026-03-10T10:00:00+08:00', 1000));
    const r = g.when(ship('2026-02-10T10:00:00+08:00', 500));
    expect(r.state.lastShipmentAt).toBe(parseInstant('2026-03-10T10:00:00+08:00'));
    expect(r.state.shipmentCount).toBe(2);
    expect(contributionsByMonth(r.state.contributions)).toEqual({ '2026-03': 1000, '2026-02': 500 });
  });

  it('a transition caused by a late event is never effective before the previous transition', () => {
    // WINBACK recorded at 2026-03-11; a late shipment dated 2026-03-01 (after the last one) wins back at 2026-03-11.
    const g = spec().given(retained, sweep('2026-03-20T00:00:00+08:00'));
    g.when(ship('2026-03-01T10:00:00+08:00', 1)).thenOfType(['LifecycleStageChanged'], [{ at: '2026-03-11T10:00:00.000+08:00', data: { from: 'WINBACK', to: 'RETENTION', reason: 'WON_BACK' } }]);
    // A shipment older than the last one does not win back.
    g.when(ship('2026-01-01T10:00:00+08:00', 1)).thenOfType(['LifecycleStageChanged'], []);
  });

  it('a sweep of an unknown customer records nothing', () => {
    spec().given().when(sweep('2026-03-20T00:00:00+08:00')).thenNothing();
  });
});

describe('customer decider — idempotency', () => {
  it('a duplicate eventId changes nothing, even with a different payload', () => {
    const first = ship('2026-03-10T10:00:00+08:00', 1000, { eventId: '11111111-1111-4111-8111-111111111111' });
    const g = spec().given(first);
    g.when(ship('2026-03-10T10:00:00+08:00', 1000, { eventId: '11111111-1111-4111-8111-111111111111' })).thenNothing();
    g.when(ship('2026-04-10T10:00:00+08:00', 999_999, { eventId: '11111111-1111-4111-8111-111111111111' })).thenNothing();
    g.when(register('2026-04-10T10:00:00+08:00')).thenOfType(['CustomerRegistered'], [{ type: 'CustomerRegistered' }]);
  });

  it("a fact whose eventId the caller checked against every recorded event is decided without the decider's own check, to the same events", () => {
    const history = [register('2026-01-02T09:00:00+08:00'), ship('2026-01-05T10:00:00+08:00', 40_000), close('2026-01')];
    const fact = ship('2026-03-20T10:00:00+08:00', 1000) as RecordFact;
    const plain = spec().given(...history).when(fact).events;
    expect(types(plain)).toEqual(['LifecycleStageChanged', 'ShipmentPickedUp', 'LifecycleStageChanged']); // to WINBACK after 60 days, and back
    expect(spec().given(...history).when({ ...fact, eventIdChecked: true }).events).toEqual(plain);
    // The flag is the caller's word: an id it wrongly vouches for is decided as new (the store's unique ids refuse it).
    const first = ship('2026-03-10T10:00:00+08:00', 1000, { eventId: '22222222-2222-4222-8222-222222222222' }) as RecordFact;
    spec().given(first).when({ ...first, eventIdChecked: true }).thenOfType(['ShipmentPickedUp'], [{ type: 'ShipmentPickedUp' }]);
    spec().given(first).when(first).thenNothing();
  });

  it('a state that keeps no eventIds decides checked facts to the same events and states, and refuses an unchecked fact naming its eventId', () => {
    const checked = (c: CustomerCommand): CustomerCommand => (c.type === 'RecordFact' ? { ...c, eventIdChecked: true } : c);
    const history = [register('2026-01-02T09:00:00+08:00'), ship('2026-01-05T10:00:00+08:00', 40_000), close('2026-01'), ship('2026-01-20T10:00:00+08:00', 500)];
    const tracked = spec().given(...history);
    const untracked = spec(customerDecider, initialState({ trackEventIds: false })).given(...history.map(checked));
    expect(untracked.state.ids).toBeNull();
    expect(tracked.state.ids?.size).toBe(3);
    const fact = ship('2026-03-30T10:00:00+08:00', 1000) as RecordFact;
    const a = tracked.when(fact);
    const b = untracked.when(checked(fact));
    expect(types(a.events)).toEqual(['LifecycleStageChanged', 'ShipmentPickedUp', 'LifecycleStageChanged']);
    expect(b.events).toEqual(a.events);
    expect({ ...b.state, ids: null }).toEqual({ ...a.state, ids: null });
    expect(() => untracked.when(fact)).toThrow(UncheckedEventIdError);
    expect(() => untracked.when(fact)).toThrow(fact.event.eventId);
  });
});

describe('customer decider — deciding into a state the caller owns', () => {
  it('decideAndEvolveOwned decides the same events and folds them into the state it was given, to what decideAndEvolve returns', () => {
    const history: CustomerCommand[] = [
      register('2026-01-02T09:00:00+08:00'),
      ship('2026-01-05T10:00:00+08:00', 40_000),
      ship('2026-01-06T10:00:00+08:00', 900),
      complaint('2026-01-07T10:00:00+08:00', 'K1'),
      close('2026-01'),
      ack('2026-01-20T10:00:00+08:00', 'K1'),
      complaint('2026-02-01T10:00:00+08:00', 'K2', 'DELAY'),
      resolve('2026-02-09T10:00:00+08:00', 'K1'),
      close('2026-02'),
      ship('2026-05-01T10:00:00+08:00', 2_000), // back from WINBACK; K2's deadlines passed on the way
      sweep('2026-09-01T00:00:00+08:00'),
    ];
    let pure = initialState();
    let owned = initialState();
    const decided = new Set<string>();
    for (const command of history) {
      const before = { ...pure };
      const a = customerDecider.decideAndEvolve(command, pure);
      for (const key of Object.keys(before) as (keyof typeof before)[]) expect(pure[key]).toBe(before[key]); // the pure path changes no field of its input
      const b = customerDecider.decideAndEvolveOwned(command, owned);
      expect(b.events).toEqual(a.events);
      expect(b.state).toBe(owned);
      expect(b.state).toEqual(a.state);
      for (const e of a.events) decided.add(e.type);
      pure = a.state;
      owned = b.state;
    }
    for (const t of ['TierChanged', 'MonthClosed', 'LifecycleStageChanged', 'ComplaintSlaBreached', 'ChurnRiskChanged', 'ComplaintResolved']) expect(decided).toContain(t);
  });
});

describe('customer decider — complaint service levels (DESIGN §4.3)', () => {
  it.each([
    ['PROJECT', 10_000_000, 2, 24],
    ['VIP', 1_000_000, 2, 24],
    ['MIDDLE', 200_000, 8, 48],
    ['REGULAR', 30_000, 24, 72],
    ['TRANSIENT', 0, 24, 72],
  ])('%s: acknowledge within %i h, resolve within %i h — at the deadline is on time, a millisecond after it is a breach', (tier, fen, ackH, resH) => {
    const filed = parseInstant('2026-02-10T10:00:00+08:00');
    const g = spec().given(ship('2026-01-10T10:00:00+08:00', fen as number), close('2026-01'), complaint(formatInstant(filed), 'K1'));
    expect(g.state.tier).toBe(tier);
    const ackDue = formatInstant(filed + (ackH as number) * 3600_000);
    const resDue = formatInstant(filed + (resH as number) * 3600_000);
    g.when(ack(ackDue, 'K1')).thenOfType(['ComplaintSlaBreached'], []);
    g.when(ack(formatInstant(filed + (ackH as number) * 3600_000 + 1), 'K1')).thenOfType(
      ['ComplaintSlaBreached'],
      [{ at: ackDue, data: { complaintId: 'K1', kind: 'ACK', dueAt: ackDue, tierAtFiling: tier, policyVersion: 1 } }],
    );
    const acked = spec().given(ship('2026-01-10T10:00:00+08:00', fen as number), close('2026-01'), complaint(formatInstant(filed), 'K1'), ack(formatInstant(filed + 60_000), 'K1'));
    acked.when(resolve(resDue, 'K1')).thenOfType(['ComplaintSlaBreached'], []);
    acked.when(resolve(formatInstant(filed + (resH as number) * 3600_000 + 1), 'K1')).thenOfType(['ComplaintSlaBreached'], [{ data: { kind: 'RESOLVE', dueAt: resDue } }]);
  });

  it('the tier at filing time sets the deadlines, even if the tier changes later', () => {
    const g = spec().given(complaint('2026-01-20T10:00:00+08:00', 'K1'), ship('2026-01-21T10:00:00+08:00', 1_000_000), close('2026-01'));
    expect(g.state.tier).toBe('VIP');
    // filed as TRANSIENT: 24 h to acknowledge, although VIP now
    g.when(ack('2026-01-21T09:00:00+08:00', 'K1')).thenOfType(['ComplaintSlaBreached'], []);
  });

  it('a sweep detects a missed deadline once, effective at the deadline; the late acknowledgement does not repeat it', () => {
    const g = spec().given(complaint('2026-02-10T10:00:00+08:00', 'K1'), sweep('2026-02-12T00:00:00+08:00'));
    const breaches = g.state.openComplaints.K1;
    expect(breaches.ackBreached).toBe(true);
    g.when(ack('2026-02-12T01:00:00+08:00', 'K1')).thenOfType(['ComplaintSlaBreached'], []);
    spec()
      .given(complaint('2026-02-10T10:00:00+08:00', 'K1'))
      .when(sweep('2026-02-12T00:00:00+08:00'))
      .thenOfType(['ComplaintSlaBreached'], [{ at: '2026-02-11T10:00:00.000+08:00', data: { kind: 'ACK' } }]);
  });

  it('counts the open complaints with a deadline ahead, with a breach and of the quality category, and walks none whose deadlines have all passed', () => {
    const at = (day: number, hour = 10) => `2026-02-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+08:00`;
    const counts = (...given: Parameters<ReturnType<typeof spec>['given']>) => {
      const s = spec().given(...given).state;
      return [s.complaintsDue, s.complaintsBreached, s.qualityComplaintsOpen];
    };
    const quality = (day: number, id: string) => complaint(at(day), id, 'QUALITY_COMPLAINT');
    const suggestion = (day: number, id: string) => complaint(at(day), id, 'DEMAND_SUGGESTION');
    expect(counts(suggestion(10, 'K1'))).toEqual([1, 0, 0]);
    expect(counts(suggestion(10, 'K1'), quality(10, 'K2'))).toEqual([2, 0, 1]);
    expect(counts(suggestion(10, 'K1'), ack(at(10, 11), 'K1'))).toEqual([1, 0, 0]); // the resolution is still due
    expect(counts(suggestion(10, 'K1'), sweep(at(12)))).toEqual([1, 1, 0]); // acknowledgement missed, resolution still due
    expect(counts(suggestion(10, 'K1'), sweep(at(20)))).toEqual([0, 1, 0]); // both missed
    expect(counts(suggestion(10, 'K1'), ack(at(10, 11), 'K1'), resolve(at(10, 12), 'K1'))).toEqual([0, 0, 0]);
    expect(counts(quality(10, 'K1'), sweep(at(20)), resolve(at(21), 'K1'))).toEqual([0, 0, 0]);
    expect(counts(quality(10, 'K1'), quality(10, 'K1'))).toEqual([1, 0, 1]); // filed twice: one complaint
    // Breached and still open: later facts make nothing of it due again.
    spec()
      .given(ship(at(1), 1), suggestion(10, 'K1'), sweep(at(20)))
      .when(ship(at(25), 1))
      .thenOfType(['ComplaintSlaBreached'], []);
  });

  it('resolving without acknowledging, late, records both breaches in deadline order', () => {
    spec()
      .given(complaint('2026-02-10T10:00:00+08:00', 'K1'))
      .when(resolve('2026-02-20T10:00:00+08:00', 'K1'))
      .thenOfType(['ComplaintSlaBreached'], [{ data: { kind: 'ACK' } }, { data: { kind: 'RESOLVE', dueAt: '2026-02-13T10:00:00.000+08:00' } }]);
  });
});

describe('customer decider — churn risk (DESIGN §4.4)', () => {
  const risk = (events: DomainEvent[]) => events.flatMap((e) => (e.type === 'ChurnRiskChanged' ? [[e.data.from, e.data.to, e.data.signals, e.data.effectiveAt]] : []));
  const retained = [ship('2026-01-05T10:00:00+08:00', 1), ship('2026-01-06T10:00:00+08:00', 1), ship('2026-01-10T10:00:00+08:00', 1)];

  it('INACTIVE_30D: RETENTION and 30 days since the last shipment → HIGH, at that instant; gone when WINBACK', () => {
    const { events } = spec().given(retained).when(sweep('2026-03-20T00:00:00+08:00'));
    expect(risk(events)).toEqual([
      ['LOW', 'HIGH', ['INACTIVE_30D'], '2026-02-09T10:00:00.000+08:00'],
      ['HIGH', 'LOW', [], '2026-03-11T10:00:00.000+08:00'],
    ]);
    spec().given(retained).when(sweep('2026-02-09T09:59:59+08:00')).thenNothing();
  });

  it('a new shipment clears INACTIVE_30D', () => {
    const g = spec().given(retained, sweep('2026-02-15T00:00:00+08:00'));
    expect(g.state.risk).toBe('HIGH');
    expect(risk(g.when(ship('2026-02-16T10:00:00+08:00', 1)).events)).toEqual([['HIGH', 'LOW', [], '2026-02-16T10:00:00.000+08:00']]);
  });

  const baseline = monthsAt(100_000, ['2026-01', '2026-02', '2026-03']);
  it.each([
    [49_999, 'HIGH', 'CONTRIBUTION_DROP_50'],
    [50_000, 'MEDIUM', 'CONTRIBUTION_DROP_30'],
    [69_999, 'MEDIUM', 'CONTRIBUTION_DROP_30'],
    [70_000, 'LOW', null],
  ])('last closed month %i fen against a 1,000 元 mean → %s', (fen, level, signal) => {
    const { events } = spec().given(baseline, ship('2026-04-10T12:00:00+08:00', fen)).when(close('2026-04'));
    if (level === 'LOW') expect(risk(events)).toEqual([]);
    else expect(risk(events)).toEqual([['LOW', level, [signal], '2026-05-01T00:00:00.000+08:00']]);
  });

  it('no contribution-drop signal when the three-month mean is below 300 元', () => {
    const { events } = spec()
      .given(monthsAt(29_999, ['2026-01', '2026-02', '2026-03']))
      .when(close('2026-04'));
    expect(risk(events).flatMap((r) => r[2] as string[]).filter((x) => x.startsWith('CONTRIBUTION'))).toEqual([]);
  });

  it('SLA_BREACH (one open breached complaint) is MEDIUM; SLA_BREACHES (two) is HIGH; resolving lowers it', () => {
    const g = spec().given(ship('2026-02-01T10:00:00+08:00', 1), complaint('2026-02-10T10:00:00+08:00', 'K1', 'DEMAND_SUGGESTION'), complaint('2026-02-10T11:00:00+08:00', 'K2', 'QUALITY_SUGGESTION'));
    const r = g.when(sweep('2026-02-11T10:30:00+08:00'));
    expect(risk(r.events)).toEqual([
      ['LOW', 'MEDIUM', ['SLA_BREACH'], '2026-02-11T10:00:00.000+08:00'],
    ]);
    const both = g.when(sweep('2026-02-11T12:00:00+08:00'));
    expect(risk(both.events).at(-1)).toEqual(['MEDIUM', 'HIGH', ['SLA_BREACHES'], '2026-02-11T11:00:00.000+08:00']);
  });

  it('OPEN_QUALITY_COMPLAINT is MEDIUM until it is resolved', () => {
    const g = spec().given(ship('2026-02-01T10:00:00+08:00', 1));
    expect(risk(g.when(complaint('2026-02-10T10:00:00+08:00', 'K1', 'QUALITY_COMPLAINT')).events)).toEqual([['LOW', 'MEDIUM', ['OPEN_QUALITY_COMPLAINT'], '2026-02-10T10:00:00.000+08:00']]);
    const g2 = spec().given(ship('2026-02-01T10:00:00+08:00', 1), complaint('2026-02-10T10:00:00+08:00', 'K1', 'QUALITY_COMPLAINT'));
    expect(risk(g2.when(resolve('2026-02-10T12:00:00+08:00', 'K1')).events)).toEqual([['MEDIUM', 'LOW', [], '2026-02-10T12:00:00.000+08:00']]);
    spec().given(ship('2026-02-01T10:00:00+08:00', 1)).when(complaint('2026-02-10T10:00:00+08:00', 'K9', 'DEMAND_SUGGESTION')).thenOfType(['ChurnRiskChanged'], []);
  });

  it('PAYMENT_OVERDUE is MEDIUM until that invoice is settled', () => {
    const overdue = upstream('PaymentOverdue', '2026-02-10T10:00:00+08:00', { invoiceId: 'INV-1', amountFen: 5000, dueDate: '2026-02-05' });
    expect(risk(spec().given(ship('2026-02-01T10:00:00+08:00', 1)).when(overdue).events)).toEqual([['LOW', 'MEDIUM', ['PAYMENT_OVERDUE'], '2026-02-10T10:00:00.000+08:00']]);
    const g = spec().given(ship('2026-02-01T10:00:00+08:00', 1), overdue);
    g.when(upstream('PaymentSettled', '2026-02-11T10:00:00+08:00', { invoiceId: 'INV-2', amountFen: 5000, period: '2026-01' })).thenOfType(['ChurnRiskChanged'], []);
    g.when(upstream('PaymentSettled', '2026-02-11T10:00:00+08:00', { invoiceId: 'INV-1', amountFen: 5000, period: '2026-01' })).thenOfType(['ChurnRiskChanged'], [{ data: { from: 'MEDIUM', to: 'LOW' } }]);
  });

  it('the level is the highest of the signals that hold, and all of them are recorded', () => {
    const g = spec().given(retained, upstream('PaymentOverdue', '2026-01-12T10:00:00+08:00', { invoiceId: 'I', amountFen: 1, dueDate: '2026-01-11' }));
    expect(g.state.risk).toBe('MEDIUM');
    expect(risk(g.when(sweep('2026-02-10T00:00:00+08:00')).events)).toEqual([['MEDIUM', 'HIGH', ['INACTIVE_30D', 'PAYMENT_OVERDUE'], '2026-02-09T10:00:00.000+08:00']]);
  });
});

describe('customer decider — versioned policies', () => {
  it('a new policy version decides from its effective month on and is recorded; earlier months keep v1', () => {
    const v2 = { ...POLICY_V1, version: 2, effectiveFrom: '2026-03', tierFloorsFen: { ...POLICY_V1.tierFloorsFen, VIP: 2_000_000 } };
    const decider = createCustomerDecider(new PolicyBook([POLICY_V1, v2]));
    const feb = spec(decider).given(ship('2026-02-10T10:00:00+08:00', 1_500_000)).when(close('2026-02'));
    expect(feb.events).toContainEqual(expect.objectContaining({ type: 'TierChanged', data: expect.objectContaining({ to: 'VIP', policyVersion: 1 }) }));
    const mar = spec(decider).given(ship('2026-03-10T10:00:00+08:00', 1_500_000)).when(close('2026-03'));
    expect(mar.events).toContainEqual(expect.objectContaining({ type: 'TierChanged', data: expect.objectContaining({ to: 'MIDDLE', policyVersion: 2 }) }));
  });
});

describe('contributions per month (a persistent list)', () => {
  it('adds to the newest month, to a new month and to a late month without changing older states', () => {
    let list = addContribution(null, '2026-02', 100);
    list = addContribution(list, '2026-02', 50);
    const before = addContribution(list, '2026-04', 7);
    const after = addContribution(before, '2026-03', 9); // late: between two months it already has
    const later = addContribution(after, '2026-01', 1); // older than every month it has
    expect(contributionsByMonth(before)).toEqual({ '2026-04': 7, '2026-02': 150 });
    expect(contributionsByMonth(after)).toEqual({ '2026-04': 7, '2026-03': 9, '2026-02': 150 });
    expect(Object.keys(contributionsByMonth(later))).toEqual(['2026-04', '2026-03', '2026-02', '2026-01']);
    const s = (c: MonthContribution | null) => ({ contributions: c });
    expect([contributionOf(s(later), '2026-03'), contributionOf(s(later), '2026-05'), contributionOf(s(later), '2025-12'), contributionOf(s(null), '2026-01')]).toEqual([9, 0, 0, 0]);
  });
});
