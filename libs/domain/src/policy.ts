import type { Tier } from '@crm/contracts';
import { TIERS } from '@crm/contracts';

/**
 * The rules of DESIGN §4 as a versioned value. A version applies from its `effectiveFrom` month on
 * and never rewrites history: every derived event records the version that decided it.
 */
export interface Policy {
  version: number;
  /** First month (YYYY-MM) this version decides. */
  effectiveFrom: string;
  /** Minimum monthly contribution in fen for each tier. */
  tierFloorsFen: Record<Tier, number>;
  /** Downgrade only when this many closed months in a row are below the current tier. */
  downgradeWindowMonths: number;
  lifecycle: {
    retentionMinShipments: number;
    retentionMinDays: number;
    winbackAfterDays: number;
    lostAfterDays: number;
  };
  sla: Record<Tier, { ackHours: number; resolveHours: number }>;
  risk: {
    inactiveDays: number;
    /** Mean of this many closed months before the last one is the baseline. */
    dropBaselineMonths: number;
    dropMinBaselineFen: number;
    dropHighPercent: number;
    dropMediumPercent: number;
    breachesForHigh: number;
  };
  accountManagers: { keyAccountTiers: Tier[]; maxKeyAccountsPerManager: number };
}

export const POLICY_V1: Policy = {
  version: 1,
  effectiveFrom: '0001-01',
  tierFloorsFen: { TRANSIENT: 0, REGULAR: 30_000, MIDDLE: 200_000, VIP: 1_000_000, PROJECT: 10_000_000 },
  downgradeWindowMonths: 3,
  lifecycle: { retentionMinShipments: 3, retentionMinDays: 2, winbackAfterDays: 60, lostAfterDays: 180 },
  sla: {
    PROJECT: { ackHours: 2, resolveHours: 24 },
    VIP: { ackHours: 2, resolveHours: 24 },
    MIDDLE: { ackHours: 8, resolveHours: 48 },
    REGULAR: { ackHours: 24, resolveHours: 72 },
    TRANSIENT: { ackHours: 24, resolveHours: 72 },
  },
  risk: {
    inactiveDays: 30,
    dropBaselineMonths: 3,
    dropMinBaselineFen: 30_000,
    dropHighPercent: 50,
    dropMediumPercent: 30,
    breachesForHigh: 2,
  },
  accountManagers: { keyAccountTiers: ['VIP', 'PROJECT'], maxKeyAccountsPerManager: 40 },
};

export const tierRank = (t: Tier): number => TIERS.indexOf(t);

/** The tier a monthly contribution earns under `policy`. */
export function tierFor(contributionFen: number, policy: Policy): Tier {
  let tier: Tier = 'TRANSIENT';
  for (const t of TIERS) if (contributionFen >= policy.tierFloorsFen[t]) tier = t;
  return tier;
}

/** Ordered policy versions; picks the one in force for a month. */
export class PolicyBook {
  private readonly versions: readonly Policy[];
  constructor(versions: readonly Policy[]) {
    if (versions.length === 0) throw new Error('a policy book needs at least one policy');
    this.versions = [...versions].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
  }
  /** The policy in force at an instant (its UTC+8 month). */
  forInstant(ms: number, monthOf: (ms: number) => string): Policy {
    return this.versions.length === 1 ? this.versions[0] : this.forMonth(monthOf(ms));
  }
  forMonth(month: string): Policy {
    let p = this.versions[0];
    for (const v of this.versions) if (v.effectiveFrom <= month) p = v;
    return p;
  }
  get all(): readonly Policy[] {
    return this.versions;
  }
  get latest(): Policy {
    return this.versions[this.versions.length - 1];
  }
  /** This book with `policy` in force from its effectiveFrom on (versions from then on are replaced). */
  with(policy: Policy): PolicyBook {
    return new PolicyBook([...this.versions.filter((v) => v.effectiveFrom < policy.effectiveFrom), policy]);
  }
}

export const DEFAULT_POLICIES = new PolicyBook([POLICY_V1]);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `patch` against the shape of `base` (same keys, same kinds of values) and collects every problem with its path. */
function mergeShaped(base: unknown, patch: unknown, path: string, errors: string[]): unknown {
  if (isPlainObject(base)) {
    if (!isPlainObject(patch)) {
      errors.push(`${path} must be an object`);
      return base;
    }
    const out: Record<string, unknown> = { ...base };
    for (const key of Object.keys(patch)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in base)) errors.push(`${at} is not a policy setting`);
      else out[key] = mergeShaped(base[key], patch[key], at, errors);
    }
    return out;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(patch) || patch.some((t) => !(TIERS as readonly unknown[]).includes(t))) errors.push(`${path} must be a list of tiers (${TIERS.join(', ')})`);
    else return [...patch];
    return base;
  }
  if (typeof base === 'number') {
    if (typeof patch !== 'number' || !Number.isInteger(patch) || patch < 0) errors.push(`${path} must be an integer ≥ 0`);
    else return patch;
    return base;
  }
  if (typeof patch !== typeof base) errors.push(`${path} must be a ${typeof base}`);
  else return patch;
  return base;
}

export class PolicyError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid policy: ${errors.join('; ')}`);
    this.name = 'PolicyError';
  }
}

/**
 * A policy from a (possibly partial) JSON object laid over `base`: every setting it leaves out keeps base's value.
 * Throws PolicyError naming every field that is unknown, of the wrong kind or inconsistent
 * (`tierFloorsFen.VIP must be an integer ≥ 0`, tier floors must rise with the tier...).
 */
export function policyFrom(patch: unknown, base: Policy): Policy {
  const errors: string[] = [];
  const merged = mergeShaped(base, patch, '', errors) as Policy;
  if (errors.length === 0) {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(merged.effectiveFrom)) errors.push('effectiveFrom must be a month YYYY-MM');
    if (merged.version < 1) errors.push('version must be an integer ≥ 1');
    if (merged.tierFloorsFen.TRANSIENT !== 0) errors.push('tierFloorsFen.TRANSIENT must be 0 (every customer has a tier)');
    for (let i = 1; i < TIERS.length; i++) {
      if (merged.tierFloorsFen[TIERS[i]] <= merged.tierFloorsFen[TIERS[i - 1]]) errors.push(`tierFloorsFen.${TIERS[i]} must be greater than tierFloorsFen.${TIERS[i - 1]}`);
    }
    if (merged.downgradeWindowMonths < 1) errors.push('downgradeWindowMonths must be ≥ 1');
    if (merged.lifecycle.lostAfterDays <= merged.lifecycle.winbackAfterDays) errors.push('lifecycle.lostAfterDays must be greater than lifecycle.winbackAfterDays');
    for (const t of TIERS) if (merged.sla[t].resolveHours < merged.sla[t].ackHours) errors.push(`sla.${t}.resolveHours must be ≥ sla.${t}.ackHours`);
  }
  if (errors.length > 0) throw new PolicyError(errors);
  return merged;
}
