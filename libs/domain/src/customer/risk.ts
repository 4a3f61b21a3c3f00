import type { RiskLevel, RiskSignal } from '@crm/contracts';
import { addMonths, DAY_MS } from '../calendar';
import type { Policy } from '../policy';
import { contributionOf, CustomerState } from './state';

const HIGH: ReadonlySet<RiskSignal> = new Set(['INACTIVE_30D', 'CONTRIBUTION_DROP_50', 'SLA_BREACHES']);

/** The churn-risk signals of DESIGN §4.4 that hold for `s` at instant `at`. */
export function riskSignals(s: CustomerState, at: number, policy: Policy): RiskSignal[] {
  const r = policy.risk;
  const signals: RiskSignal[] = [];
  if (s.stage === 'RETENTION' && s.lastShipmentAt !== null && at - s.lastShipmentAt >= r.inactiveDays * DAY_MS) signals.push('INACTIVE_30D');

  if (s.lastClosedMonth !== null) {
    const last = contributionOf(s, s.lastClosedMonth);
    let sum = 0;
    for (let i = 1; i <= r.dropBaselineMonths; i++) sum += contributionOf(s, addMonths(s.lastClosedMonth, -i));
    const n = r.dropBaselineMonths;
    // Integer arithmetic: last < mean × (100 − p)% ⇔ 100·n·last < (100 − p)·sum.
    if (sum >= r.dropMinBaselineFen * n) {
      if (100 * n * last < (100 - r.dropHighPercent) * sum) signals.push('CONTRIBUTION_DROP_50');
      else if (100 * n * last < (100 - r.dropMediumPercent) * sum) signals.push('CONTRIBUTION_DROP_30');
    }
  }

  // Counted with the open complaints (CustomerState.complaintsBreached), not walked.
  const breached = s.complaintsBreached;
  if (breached >= r.breachesForHigh) signals.push('SLA_BREACHES');
  else if (breached >= 1) signals.push('SLA_BREACH');
  if (s.qualityComplaintsOpen > 0) signals.push('OPEN_QUALITY_COMPLAINT');
  for (const _ in s.overdueInvoices) {
    signals.push('PAYMENT_OVERDUE');
    break;
  }
  return signals;
}

export function riskLevel(signals: readonly RiskSignal[]): RiskLevel {
  if (signals.length === 0) return 'LOW';
  return signals.some((x) => HIGH.has(x)) ? 'HIGH' : 'MEDIUM';
}
