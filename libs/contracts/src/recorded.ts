import type { ComplaintCategory, ComplaintSource, UpstreamDataOf, UpstreamType } from './upstream';

/** What the customer aggregate records: the upstream facts themselves plus what it derives from them. */

export const TIERS = ['TRANSIENT', 'REGULAR', 'MIDDLE', 'VIP', 'PROJECT'] as const;
export type Tier = (typeof TIERS)[number];
export const STAGES = ['ACQUISITION', 'ACTIVATION', 'RETENTION', 'WINBACK', 'LOST'] as const;
export type Stage = (typeof STAGES)[number];
export const RISK_LEVELS = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const RISK_SIGNALS = [
  'INACTIVE_30D',
  'CONTRIBUTION_DROP_50',
  'SLA_BREACHES',
  'CONTRIBUTION_DROP_30',
  'SLA_BREACH',
  'OPEN_QUALITY_COMPLAINT',
  'PAYMENT_OVERDUE',
] as const;
export type RiskSignal = (typeof RISK_SIGNALS)[number];

/** A recorded fact: the upstream payload (unknown fields dropped), kept under the upstream type name. */
export type FactData<T extends UpstreamType> = UpstreamDataOf<T> & {
  /** ShipmentPickedUp only: its month was already closed when it arrived. */
  late?: boolean;
};

export interface TierChangedData {
  from: Tier;
  to: Tier;
  /** The closed month YYYY-MM whose close made the decision. */
  month: string;
  /** contribution(month) in fen. */
  contributionFen: number;
  rule: 'UPGRADE' | 'DOWNGRADE';
  /** Inputs that made it fire: contribution per month of the window and the floor that applied. */
  inputs: { window: Record<string, number>; thresholdFen: number; floorTier: Tier };
  reason: string;
  policyVersion: number;
  effectiveAt: string;
}

export interface MonthClosedData {
  month: string;
  contributionFen: number;
  tier: Tier;
  policyVersion: number;
  effectiveAt: string;
}

export type StageChangeReason =
  | 'FIRST_EVENT'
  | 'FIRST_SHIPMENT'
  | 'REPEAT_SHIPMENTS'
  | 'INACTIVE_60D'
  | 'INACTIVE_180D'
  | 'WON_BACK';

export interface LifecycleStageChangedData {
  from: Stage | null;
  to: Stage;
  reason: StageChangeReason;
  /** Human-readable why, with the numbers. */
  detail: string;
  effectiveAt: string;
  policyVersion: number;
  inputs: { shipmentCount: number; lastShipmentAt: string | null };
}

export interface ChurnRiskChangedData {
  from: RiskLevel;
  to: RiskLevel;
  signals: RiskSignal[];
  effectiveAt: string;
  policyVersion: number;
}

export interface ComplaintSlaBreachedData {
  complaintId: string;
  kind: 'ACK' | 'RESOLVE';
  dueAt: string;
  tierAtFiling: Tier;
  category: ComplaintCategory;
  source: ComplaintSource;
  policyVersion: number;
  effectiveAt: string;
}

export interface DerivedDataByType {
  TierChanged: TierChangedData;
  MonthClosed: MonthClosedData;
  LifecycleStageChanged: LifecycleStageChangedData;
  ChurnRiskChanged: ChurnRiskChangedData;
  ComplaintSlaBreached: ComplaintSlaBreachedData;
}
export type DerivedType = keyof DerivedDataByType;

export type DomainEventType = UpstreamType | DerivedType;

/**
 * A domain event as the decider returns it. `at` is the business instant it takes effect
 * (the fact's occurredAt, or the derived effective time), as ISO-8601 with an offset.
 * Facts keep the upstream `eventId`; derived events point to the upstream event or command that caused them.
 */
export type DomainEvent =
  | { [T in UpstreamType]: { type: T; at: string; data: FactData<T>; eventId: string; source?: string } }[UpstreamType]
  | { [T in DerivedType]: { type: T; at: string; data: DerivedDataByType[T] } }[DerivedType];

export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

/** Metadata every recorded event carries (DESIGN §2). */
export interface EventMetadata {
  /** The upstream eventId (facts), or the id of the upstream event/command that caused a derived event. */
  upstreamEventId?: string;
  correlationId: string;
  causationId: string;
  policyVersion?: number;
  /** Business time the event takes effect (occurredAt of a fact, effectiveAt of a derived event). */
  occurredAt: string;
  /** Wall-clock time it was written to the store. */
  recordedAt: string;
  schemaVersion: number;
  source?: string;
  /** Tamper evidence: sha256 over this event and the previous event's hash in the stream. */
  hash?: string;
}

export const SCHEMA_VERSION = 1;
