import { Query } from '@nestjs/cqrs';
import type { AlertQuery, ComplaintRow, CustomerView, TimeTravel, FunnelReport, ManagerLoadRow, MonthRange, Page, PortfolioItem, PortfolioQuery, PyramidReport, Alert } from '@crm/projections';

/** Who asks: analysts get personal data masked. */
export interface Viewer {
  mask: boolean;
}

export class GetCustomerQuery extends Query<CustomerView | null> {
  constructor(
    readonly customerId: string,
    readonly viewer: Viewer,
    /** Time travel: fold the stream as of / as known at these instants instead of reading the projection. */
    readonly at: TimeTravel = {},
  ) {
    super();
  }
}

export class GetPortfolioQuery extends Query<Page<PortfolioItem>> {
  constructor(
    readonly query: PortfolioQuery,
    readonly viewer: Viewer,
  ) {
    super();
  }
}

export class GetAlertsQuery extends Query<Page<Omit<Alert, '_id'> & { alertId: string }>> {
  constructor(
    readonly query: AlertQuery,
    readonly viewer: Viewer,
  ) {
    super();
  }
}

export class GetPyramidQuery extends Query<PyramidReport[]> {
  constructor(readonly range: MonthRange) {
    super();
  }
}

export class GetFunnelQuery extends Query<FunnelReport[]> {
  constructor(readonly range: MonthRange) {
    super();
  }
}

export class GetComplaintsQuery extends Query<ComplaintRow[]> {
  constructor(readonly range: MonthRange) {
    super();
  }
}

export class GetManagerLoadQuery extends Query<ManagerLoadRow[]> {}
