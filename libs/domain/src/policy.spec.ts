import { describe, expect, it } from '@jest/globals';
import { POLICY_V1, PolicyBook, PolicyError, policyFrom } from './policy';

describe('policyFrom', () => {
  it('lays a partial policy over the base, keeping every setting it leaves out', () => {
    const p = policyFrom({ version: 2, effectiveFrom: '2026-12', tierFloorsFen: { VIP: 1_500_000 } }, POLICY_V1);
    expect(p.tierFloorsFen).toEqual({ ...POLICY_V1.tierFloorsFen, VIP: 1_500_000 });
    expect(p.lifecycle).toEqual(POLICY_V1.lifecycle);
    expect(p.version).toBe(2);
    expect(POLICY_V1.tierFloorsFen.VIP).toBe(1_000_000); // the base is not changed
  });

  it('names every wrong field', () => {
    let err: unknown;
    try {
      policyFrom({ tierFloorsFen: { VIP: -1, GOLD: 5 }, lifecycle: { winbackAfterDays: 'sixty' }, effectiveFrom: '2026-13' }, POLICY_V1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).errors).toEqual([
      'tierFloorsFen.VIP must be an integer ≥ 0',
      'tierFloorsFen.GOLD is not a policy setting',
      'lifecycle.winbackAfterDays must be an integer ≥ 0',
    ]);
    expect(() => policyFrom({ effectiveFrom: '2026-13' }, POLICY_V1)).toThrow('effectiveFrom must be a month YYYY-MM');
    expect(() => policyFrom({ tierFloorsFen: { VIP: 20_000_000 } }, POLICY_V1)).toThrow('tierFloorsFen.PROJECT must be greater than tierFloorsFen.VIP');
  });
});

describe('PolicyBook', () => {
  it('applies a version from its effective month on and the earlier one before', () => {
    const v2 = { ...POLICY_V1, version: 2, effectiveFrom: '2026-04' };
    const book = new PolicyBook([POLICY_V1]).with(v2);
    expect(book.forMonth('2026-03').version).toBe(1);
    expect(book.forMonth('2026-04').version).toBe(2);
    expect(book.latest.version).toBe(2);
    // a proposal from an earlier month replaces what was in force from then on
    expect(book.with({ ...POLICY_V1, version: 3, effectiveFrom: '2026-02' }).all.map((p) => p.version)).toEqual([1, 3]);
  });
});
