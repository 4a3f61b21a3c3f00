import { ConflictException, Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler, IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { sweepAll, type WriteSide } from '@crm/ingest';
import {
  alerts,
  complaints,
  customer360,
  customerView,
  funnel,
  managerLoad,
  portfolio,
  pyramid,
  asQueryable,
  ReadOnlyReadSideError,
  type ReadView,
} from '@crm/projections';
import { ClosePeriodCommand, IngestEventsCommand, RebuildProjectionsCommand, SweepCommand } from './commands';
import { maskName, maskPhone } from './mask';
import {
  GetAlertsQuery,
  GetComplaintsQuery,
  GetCustomerQuery,
  GetFunnelQuery,
  GetManagerLoadQuery,
  GetPortfolioQuery,
  GetPyramidQuery,
} from './queries';
import { READ_SIDE, WRITE_SIDE } from './tokens';

@CommandHandler(IngestEventsCommand)
export class IngestEventsHandler implements ICommandHandler<IngestEventsCommand> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  execute(c: IngestEventsCommand) {
    return this.w.pipeline.ingest(c.items, { source: c.source });
  }
}

@CommandHandler(ClosePeriodCommand)
export class ClosePeriodHandler implements ICommandHandler<ClosePeriodCommand> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  execute(c: ClosePeriodCommand) {
    return this.w.periods.close(c.month, this.w.writer);
  }
}

@CommandHandler(SweepCommand)
export class SweepHandler implements ICommandHandler<SweepCommand> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  execute(c: SweepCommand) {
    return sweepAll(this.w.store, this.w.writer, c.asOf);
  }
}

@CommandHandler(RebuildProjectionsCommand)
export class RebuildProjectionsHandler implements ICommandHandler<RebuildProjectionsCommand> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  execute() {
    // An API that reads the projector's MongoDB views does not rebuild them: 409, say where it happens.
    return this.r.rebuild().catch((e: unknown) => {
      throw e instanceof ReadOnlyReadSideError ? new ConflictException(e.message) : e;
    });
  }
}

@QueryHandler(GetCustomerQuery)
export class GetCustomerHandler implements IQueryHandler<GetCustomerQuery> {
  constructor(
    @Inject(READ_SIDE) private readonly r: ReadView,
    @Inject(WRITE_SIDE) private readonly w: WriteSide,
  ) {}
  async execute(q: GetCustomerQuery) {
    const travel = q.at.asOf !== undefined || q.at.knownAt !== undefined;
    const v = travel ? await customerView(this.w.store, q.customerId, q.at, await this.w.policies.book()) : await customer360(asQueryable(this.r), q.customerId);
    if (v === null || !q.viewer.mask) return v;
    return { ...v, name: maskName(v.name), contactPhone: maskPhone(v.contactPhone) };
  }
}

@QueryHandler(GetPortfolioQuery)
export class GetPortfolioHandler implements IQueryHandler<GetPortfolioQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  async execute(q: GetPortfolioQuery) {
    const page = await portfolio(asQueryable(this.r), q.query);
    return q.viewer.mask ? { ...page, items: page.items.map((i) => ({ ...i, name: maskName(i.name) })) } : page;
  }
}

@QueryHandler(GetAlertsQuery)
export class GetAlertsHandler implements IQueryHandler<GetAlertsQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  async execute(q: GetAlertsQuery) {
    const page = await alerts(asQueryable(this.r), q.query);
    return q.viewer.mask ? { ...page, items: page.items.map((i) => ({ ...i, customerName: maskName(i.customerName) })) } : page;
  }
}

@QueryHandler(GetPyramidQuery)
export class GetPyramidHandler implements IQueryHandler<GetPyramidQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  execute(q: GetPyramidQuery) {
    return pyramid(asQueryable(this.r), q.range);
  }
}

@QueryHandler(GetFunnelQuery)
export class GetFunnelHandler implements IQueryHandler<GetFunnelQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  execute(q: GetFunnelQuery) {
    return funnel(asQueryable(this.r), q.range);
  }
}

@QueryHandler(GetComplaintsQuery)
export class GetComplaintsHandler implements IQueryHandler<GetComplaintsQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  execute(q: GetComplaintsQuery) {
    return complaints(asQueryable(this.r), q.range);
  }
}

@QueryHandler(GetManagerLoadQuery)
export class GetManagerLoadHandler implements IQueryHandler<GetManagerLoadQuery> {
  constructor(@Inject(READ_SIDE) private readonly r: ReadView) {}
  execute() {
    return managerLoad(asQueryable(this.r));
  }
}

export const COMMAND_HANDLERS = [IngestEventsHandler, ClosePeriodHandler, SweepHandler, RebuildProjectionsHandler];
export const QUERY_HANDLERS = [GetCustomerHandler, GetPortfolioHandler, GetAlertsHandler, GetPyramidHandler, GetFunnelHandler, GetComplaintsHandler, GetManagerLoadHandler];
