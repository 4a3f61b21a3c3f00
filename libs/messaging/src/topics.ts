import { UPSTREAM_TYPES, type UpstreamType } from '@crm/contracts';

/** The four upstream topics of DESIGN §3, by the system that publishes them. */
export const DEFAULT_TOPIC_NAMES = {
  customers: 'crm.customers',
  shipments: 'waybill.shipments',
  payments: 'billing.payments',
  complaints: 'service.complaints',
} as const;

export type TopicKey = keyof typeof DEFAULT_TOPIC_NAMES;
export type TopicNames = Record<TopicKey, string>;

/** Which topic carries each upstream event type (DESIGN §3). */
export const TOPIC_OF_TYPE: Record<UpstreamType, TopicKey> = {
  CustomerRegistered: 'customers',
  AccountManagerAssigned: 'customers',
  ShipmentPickedUp: 'shipments',
  ShipmentDelivered: 'shipments',
  ShipmentException: 'shipments',
  PaymentSettled: 'payments',
  PaymentOverdue: 'payments',
  PrepaidDeposited: 'payments',
  ComplaintFiled: 'complaints',
  ComplaintAcknowledged: 'complaints',
  ComplaintResolved: 'complaints',
};

/** The four topic names with an optional prefix (e.g. `staging.` or a unique prefix per test run). */
export function upstreamTopics(prefix = ''): TopicNames {
  return {
    customers: prefix + DEFAULT_TOPIC_NAMES.customers,
    shipments: prefix + DEFAULT_TOPIC_NAMES.shipments,
    payments: prefix + DEFAULT_TOPIC_NAMES.payments,
    complaints: prefix + DEFAULT_TOPIC_NAMES.complaints,
  };
}

/** The topic of an upstream event type, or undefined for a type that is not in the contract. */
export function topicOfType(type: unknown, topics: TopicNames = upstreamTopics()): string | undefined {
  return typeof type === 'string' && (UPSTREAM_TYPES as readonly string[]).includes(type) ? topics[TOPIC_OF_TYPE[type as UpstreamType]] : undefined;
}

/** Dead-letter topic of a source topic. */
export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/** Kafka's own rule for topic names. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
