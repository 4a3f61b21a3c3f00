import type { UpstreamEvent } from '@crm/contracts';

/** Record an upstream fact. `closedThrough` is the last month closed for all customers, if any. */
export interface RecordFact {
  type: 'RecordFact';
  event: UpstreamEvent;
  closedThrough?: string | null;
  /**
   * The caller has checked that no recorded event, of any customer, has this eventId (the write side screens every
   * fact against the store's unique ids first), so the decider skips its own duplicate check. A caller that has not
   * leaves it out. A check may go stale (another writer records the same eventId before this append) only where the
   * store itself refuses an eventId recorded twice; elsewhere a caller never sets it. A state that keeps no eventIds
   * (initialState({ trackEventIds: false })) needs it on every fact.
   */
  eventIdChecked?: boolean;
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
