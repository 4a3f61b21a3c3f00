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
}

export const DEFAULT_POLICIES = new PolicyBook([POLICY_V1]);
