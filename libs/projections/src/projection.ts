import type { ReplayedEvent } from '@crm/event-store';
import type { Doc, IndexSpec } from '@crm/read-model';
import type { CustomerView, CustomerViewBuilder } from './customer-view';

/**
 * A customer whose Customer 360 changed in a batch: the document as last projected (null when new) and
 * the document now. Views that depend only on the current state of customers (portfolio, alerts,
 * manager load) are functions of these two documents, so a replay that yields the same documents
 * writes the same things.
 */
export interface CustomerChange {
  customerId: string;
  before: CustomerView | null;
  after: CustomerView;
  /**
   * Views with `perCustomer`: when this projector has not seen the customer before (`before` null) and the
   * collection was not empty when it started, the documents it holds for the customer (a replay after a
   * crash finds what the previous run wrote).
   */
  stored?: Doc[];
}

/**
 * Where a projection writes. Keyed documents are replaced whole (`put`/`delete`); aggregate documents
 * (counters per month, per manager, …) are kept in memory by the projector and written whole at the end
 * of the batch, each stamped with the batch's position. `counter` returns null when the document
 * already contains the event being applied (a replay after a crash between the writes and the
 * checkpoint), so counting twice is impossible.
 */
export interface ProjectionSink {
  /** The document is the read model's from then on (see `handOver`): never change it, nor anything in it, afterwards. */
  put(doc: Doc): void;
  delete(id: string): void;
  counter(id: string, init: () => Doc): Doc | null;
  /** Something to make happen outside the read model; delivered only for live events, never by a replay. */
  effect(kind: string, payload: Doc): void;
}

/**
 * One materialized view. `name` + `version` identify it; a new version is rebuilt from position 0 into a
 * new collection while readers keep the old one. Handlers are synchronous and pure over their inputs.
 */
export interface ViewProjection {
  readonly name: string;
  readonly version: number;
  readonly indexes: IndexSpec[];
  /** Keeps counter documents (loaded whole into memory when the projector starts). */
  readonly counters?: boolean;
  /** Documents carry a `customerId` field and are replaced per customer (alerts): see CustomerChange.stored. */
  readonly perCustomer?: boolean;
  /** Called for every event after the customer's fold has applied it. */
  onEvent?(event: ReplayedEvent, customer: CustomerViewBuilder, sink: ProjectionSink): void;
  /** Called once per batch for each customer whose events the batch contained. */
  onCustomer?(change: CustomerChange, sink: ProjectionSink): void;
}

/** Position stamp every projected document carries (decimal string of the store's bigint position). */
export const POSITION_FIELD = '_position';
