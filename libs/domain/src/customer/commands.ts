import type { UpstreamEvent } from '@crm/contracts';

/** Record an upstream fact. `closedThrough` is the last month closed for all customers, if any. */
export interface RecordFact {
  type: 'RecordFact';
  event: UpstreamEvent;
  closedThrough?: string | null;
}

/** Close calendar month `month` (YYYY-MM) for this customer: the tier decision of DESIGN §4.1. */
export interface ClosePeriod {
  type: 'ClosePeriod';
  month: string;
}

/** Record the inactivity transitions and SLA breaches that are due at `asOf`. */
export interface Sweep {
  type: 'Sweep';
  asOf: string;
}

export type CustomerCommand = RecordFact | ClosePeriod | Sweep;
