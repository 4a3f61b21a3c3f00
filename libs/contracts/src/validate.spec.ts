import { validateSync } from 'class-validator';
import { DATA_CLASSES, UpstreamEnvelope, UpstreamType, UPSTREAM_TYPES } from './upstream';
import { parseUpstreamLine, validateUpstream } from './validate';

const envelope = { eventId: '0b9f6c1e-4a8e-4c7e-9a51-3d2f0e6a7b10', occurredAt: '2026-10-03T14:22:05+08:00', customerId: 'C000123' };
const VALID: Record<UpstreamType, Record<string, unknown>> = {
  CustomerRegistered: { name: '顺达贸易', industry: '电商', channel: 'ONLINE', contactPhone: '13812345678', city: '深圳' },
  AccountManagerAssigned: { managerId: 'M01' },
  ShipmentPickedUp: { waybillNo: 'SF1', product: 'NEXT_DAY', freightFen: 2350, originCity: '深圳', destinationCity: '上海', weightGrams: 1200 },
  ShipmentDelivered: { waybillNo: 'SF1', onTime: true },
  ShipmentException: { waybillNo: 'SF1', kind: 'DAMAGED' },
  PaymentSettled: { invoiceId: 'I1', amountFen: 0, period: '2026-09' },
  PaymentOverdue: { invoiceId: 'I1', amountFen: 100, dueDate: '2026-09-30' },
  PrepaidDeposited: { amountFen: 50_000 },
  ComplaintFiled: { complaintId: 'K1', category: 'QUALITY_COMPLAINT', source: 'DELIVERY_COURIER', waybillNo: 'SF1', description: '' },
  ComplaintAcknowledged: { complaintId: 'K1' },
  ComplaintResolved: { complaintId: 'K1', satisfaction: 5 },
};

/** Field paths class-validator's own validateSync rejects, for comparison with the compiled executor. */
function referenceFailures(raw: Record<string, any>): string[] {
  const env = Object.assign(new UpstreamEnvelope(), { eventId: raw.eventId, type: raw.type, occurredAt: raw.occurredAt, customerId: raw.customerId, source: raw.source });
  const paths = validateSync(env).map((e) => e.property);
  const cls = DATA_CLASSES[raw.type as UpstreamType];
  if (cls && raw.data && typeof raw.data === 'object') paths.push(...validateSync(Object.assign(new cls(), raw.data)).map((e) => `data.${e.property}`));
  return paths.sort();
}
const failures = (raw: Record<string, any>): string[] => {
  const v = validateUpstream(raw);
  return v.ok ? [] : v.errors.map((e) => e.split(' ')[0]).sort();
};

describe('upstream validation', () => {
  it.each(UPSTREAM_TYPES)('accepts a valid %s and keeps only the contract fields', (type) => {
    const v = validateUpstream({ ...envelope, type, source: 'waybill-east', data: { ...VALID[type], futureField: 1 }, alsoUnknown: true });
    expect(v).toEqual({ ok: true, event: { ...envelope, type, source: 'waybill-east', data: VALID[type] } });
  });

  const broken: [string, Record<string, unknown>][] = [
    ['negative freight', { ...envelope, type: 'ShipmentPickedUp', data: { ...VALID.ShipmentPickedUp, freightFen: -1 } }],
    ['float freight', { ...envelope, type: 'ShipmentPickedUp', data: { ...VALID.ShipmentPickedUp, freightFen: 12.5 } }],
    ['string freight and missing city', { ...envelope, type: 'ShipmentPickedUp', data: { waybillNo: 'x', product: 'NEXT_DAY', freightFen: '100', destinationCity: 'y' } }],
    ['unknown product, empty waybill', { ...envelope, type: 'ShipmentPickedUp', data: { ...VALID.ShipmentPickedUp, product: 'TELEPORT', waybillNo: '' } }],
    ['time without offset', { ...envelope, occurredAt: '2026-10-03T14:22:05', type: 'PrepaidDeposited', data: { amountFen: 1 } }],
    ['bad ids', { ...envelope, eventId: 'not-a-uuid', customerId: 'C 1', type: 'AccountManagerAssigned', data: { managerId: 'M' } }],
    ['bad period and date', { ...envelope, type: 'PaymentOverdue', data: { invoiceId: 'I', amountFen: 1, dueDate: '2026-13-01' } }],
    ['satisfaction out of range', { ...envelope, type: 'ComplaintResolved', data: { complaintId: 'K', satisfaction: 6 } }],
    ['onTime not boolean', { ...envelope, type: 'ShipmentDelivered', data: { waybillNo: 'W', onTime: 'yes' } }],
    ['bad channel, empty name', { ...envelope, type: 'CustomerRegistered', data: { name: '', channel: 'FAX' } }],
    ['bad category and source', { ...envelope, type: 'ComplaintFiled', data: { complaintId: 'K', category: 'RANT', source: 'CAT' } }],
  ];
  it.each(broken)('%s: names the same fields as class-validator', (_name, raw) => {
    const got = failures(raw);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual([...new Set(referenceFailures(raw))].sort());
  });

  it('says what is wrong in words that name the field', () => {
    const v = validateUpstream(broken[0][1]);
    expect(v).toEqual({ ok: false, eventId: envelope.eventId, errors: ['data.freightFen must be an integer ≥ 0 (fen)'] });
  });

  it('rejects an unknown type, missing data, a non-object, an impossible date and broken JSON', () => {
    expect(validateUpstream({ ...envelope, type: 'ParcelTeleported', data: {} })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^type must be one of/)] });
    expect(validateUpstream({ ...envelope, type: 'ShipmentDelivered' })).toMatchObject({ ok: false, errors: ['data must be a JSON object'] });
    expect(validateUpstream([1, 2])).toEqual({ ok: false, errors: ['message must be a JSON object'] });
    expect(validateUpstream({ ...envelope, occurredAt: '2026-02-31T10:00:00+08:00', type: 'PrepaidDeposited', data: { amountFen: 1 } })).toMatchObject({ ok: false, errors: ['occurredAt must be a real calendar date and time'] });
    expect(validateUpstream({ ...envelope, occurredAt: '2028-02-29T10:00:00+08:00', type: 'PrepaidDeposited', data: { amountFen: 1 } })).toMatchObject({ ok: true });
    expect(validateUpstream({ ...envelope, type: 'PaymentOverdue', data: { invoiceId: 'I', amountFen: 1, dueDate: '2026-04-31' } })).toMatchObject({ ok: false, errors: ['data.dueDate must be a real calendar date'] });
    expect(parseUpstreamLine('{"eventId":')).toMatchObject({ ok: false, errors: [expect.stringMatching(/^line is not valid JSON/)] });
  });
});
