import { monthOf, parseInstant } from '@crm/domain';
import type { ViewProjection } from '../projection';

export interface FunnelMonth {
  _id: string;
  month: string;
  /** "FROM>TO" → count; FROM is "NEW" for a customer's first stage. */
  transitions: Record<string, number>;
  entered: Record<string, number>;
  exited: Record<string, number>;
}

/** Lifecycle transitions per month of their effective time; stage counts at each month end follow by summing. */
export const FUNNEL_VIEW: ViewProjection = {
  name: 'funnel',
  version: 1,
  counters: true,
  indexes: [],
  onEvent(e, _customer, sink) {
    if (e.type !== 'LifecycleStageChanged') return;
    const data = e.data as { from: string | null; to: string; effectiveAt: string };
    const m = monthOf(parseInstant(data.effectiveAt));
    const d = sink.counter(m, () => ({ _id: m, month: m, transitions: {}, entered: {}, exited: {} }));
    if (d === null) return;
    const from = data.from ?? 'NEW';
    const t = d.transitions as Record<string, number>;
    const en = d.entered as Record<string, number>;
    const ex = d.exited as Record<string, number>;
    const key = `${from}>${data.to}`;
    t[key] = (t[key] ?? 0) + 1;
    en[data.to] = (en[data.to] ?? 0) + 1;
    if (data.from !== null) ex[data.from] = (ex[data.from] ?? 0) + 1;
  },
};
