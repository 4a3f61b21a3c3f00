import 'reflect-metadata';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidationOptions,
} from 'class-validator';

/** The upstream event contract of DESIGN §3: one class per `type`, decorated with its rules. */

export const UPSTREAM_TYPES = [
  'CustomerRegistered',
  'AccountManagerAssigned',
  'ShipmentPickedUp',
  'ShipmentDelivered',
  'ShipmentException',
  'PaymentSettled',
  'PaymentOverdue',
  'PrepaidDeposited',
  'ComplaintFiled',
  'ComplaintAcknowledged',
  'ComplaintResolved',
] as const;
export type UpstreamType = (typeof UPSTREAM_TYPES)[number];

export const CHANNELS = ['ONLINE', 'HOTLINE', 'COURIER', 'SALES', 'REFERRAL'] as const;
export const PRODUCTS = ['SAME_DAY', 'NEXT_MORNING', 'NEXT_DAY', 'DEFERRED', 'FRESH', 'INTERNATIONAL'] as const;
export const EXCEPTION_KINDS = ['DELAYED', 'DAMAGED', 'LOST', 'RETURNED'] as const;
export const COMPLAINT_CATEGORIES = ['QUALITY_SUGGESTION', 'DEMAND_SUGGESTION', 'QUALITY_COMPLAINT'] as const;
export const COMPLAINT_SOURCES = ['HOTLINE_AGENT', 'SORTING_CENTER', 'PICKUP_COURIER', 'DELIVERY_COURIER', 'OTHER'] as const;
export type Channel = (typeof CHANNELS)[number];
export type Product = (typeof PRODUCTS)[number];
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];
export type ComplaintCategory = (typeof COMPLAINT_CATEGORIES)[number];
export type ComplaintSource = (typeof COMPLAINT_SOURCES)[number];

/** ISO-8601 date-time that carries an explicit offset (`Z` or `±hh:mm`). */
export const ISO_WITH_OFFSET = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;
export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

const text = (): PropertyDecorator => {
  const a = IsString({ message: '$property must be a string' });
  const b = IsNotEmpty({ message: '$property must be a non-empty string' });
  return (t, k) => {
    a(t, k);
    b(t, k);
  };
};
const oneOf = (values: readonly string[]): PropertyDecorator =>
  IsIn(values as string[], { message: `$property must be one of ${values.join(', ')}` });
const fen = (): PropertyDecorator => {
  const o: ValidationOptions = { message: '$property must be an integer ≥ 0 (fen)' };
  const a = IsInt(o);
  const b = Min(0, o);
  return (t, k) => {
    a(t, k);
    b(t, k);
  };
};
const pattern = (re: RegExp, what: string): PropertyDecorator =>
  Matches(re, { message: `$property must be ${what}` });
const optional = (): PropertyDecorator => IsOptional();

export class CustomerRegisteredData {
  @text() name!: string;
  @optional() @text() industry?: string;
  @optional() @oneOf(CHANNELS) channel?: Channel;
  /** Personal data: masked for analysts. */
  @optional() @text() contactPhone?: string;
  @optional() @text() city?: string;
}

export class AccountManagerAssignedData {
  @text() managerId!: string;
}

export class ShipmentPickedUpData {
  @text() waybillNo!: string;
  @oneOf(PRODUCTS) product!: Product;
  @fen() freightFen!: number;
  @text() originCity!: string;
  @text() destinationCity!: string;
  @optional() @IsInt({ message: '$property must be an integer ≥ 0 (grams)' }) @Min(0, { message: '$property must be an integer ≥ 0 (grams)' }) weightGrams?: number;
}

export class ShipmentDeliveredData {
  @text() waybillNo!: string;
  @IsBoolean({ message: '$property must be a boolean' }) onTime!: boolean;
}

export class ShipmentExceptionData {
  @text() waybillNo!: string;
  @oneOf(EXCEPTION_KINDS) kind!: ExceptionKind;
}

export class PaymentSettledData {
  @text() invoiceId!: string;
  @fen() amountFen!: number;
  @pattern(MONTH, 'a month YYYY-MM') period!: string;
}

export class PaymentOverdueData {
  @text() invoiceId!: string;
  @fen() amountFen!: number;
  @pattern(DATE, 'a date YYYY-MM-DD') dueDate!: string;
}

export class PrepaidDepositedData {
  @fen() amountFen!: number;
}

export class ComplaintFiledData {
  @text() complaintId!: string;
  @oneOf(COMPLAINT_CATEGORIES) category!: ComplaintCategory;
  @oneOf(COMPLAINT_SOURCES) source!: ComplaintSource;
  @optional() @text() waybillNo?: string;
  @optional() @IsString({ message: '$property must be a string' }) description?: string;
}

export class ComplaintAcknowledgedData {
  @text() complaintId!: string;
}

export class ComplaintResolvedData {
  @text() complaintId!: string;
  @optional()
  @IsInt({ message: '$property must be an integer from 1 to 5' })
  @Min(1, { message: '$property must be an integer from 1 to 5' })
  @Max(5, { message: '$property must be an integer from 1 to 5' })
  satisfaction?: number;
}

export const DATA_CLASSES = {
  CustomerRegistered: CustomerRegisteredData,
  AccountManagerAssigned: AccountManagerAssignedData,
  ShipmentPickedUp: ShipmentPickedUpData,
  ShipmentDelivered: ShipmentDeliveredData,
  ShipmentException: ShipmentExceptionData,
  PaymentSettled: PaymentSettledData,
  PaymentOverdue: PaymentOverdueData,
  PrepaidDeposited: PrepaidDepositedData,
  ComplaintFiled: ComplaintFiledData,
  ComplaintAcknowledged: ComplaintAcknowledgedData,
  ComplaintResolved: ComplaintResolvedData,
} as const satisfies Record<UpstreamType, new () => object>;

export type UpstreamDataOf<T extends UpstreamType> = InstanceType<(typeof DATA_CLASSES)[T]>;

/** The envelope every upstream message shares. */
export class UpstreamEnvelope {
  @pattern(UUID, 'a UUID') eventId!: string;
  @oneOf(UPSTREAM_TYPES) type!: UpstreamType;
  @pattern(ISO_WITH_OFFSET, 'an ISO-8601 date-time with an offset (Z or ±hh:mm)') occurredAt!: string;
  @pattern(CUSTOMER_ID, '1–64 characters of [A-Za-z0-9_-]') customerId!: string;
  @optional() @text() source?: string;
}

/** A validated upstream event, discriminated by `type`. */
export type UpstreamEvent = {
  [T in UpstreamType]: {
    eventId: string;
    type: T;
    occurredAt: string;
    customerId: string;
    source?: string;
    data: UpstreamDataOf<T>;
  };
}[UpstreamType];

export type UpstreamEventOf<T extends UpstreamType> = Extract<UpstreamEvent, { type: T }>;
