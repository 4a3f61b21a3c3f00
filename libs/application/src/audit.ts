import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { explain, verifyHistory, verifyProjections, whatIfPatch, type Explanation, type HistoryVerification, type ProjectionVerification, type WhatIfReport } from '@crm/audit';
import type { Policy } from '@crm/domain';
import { customerStream, streamEvents, type StoredEvent } from '@crm/event-store';
import type { AdoptedPolicy, QuarantinedMessage, WriteSide } from '@crm/ingest';
import type { ReadView } from '@crm/projections';
import { READ_SIDE, WRITE_SIDE } from './tokens';

/** A customer's whole stream with its metadata (null: no such customer). */
export class GetHistoryQuery extends Query<StoredEvent[] | null> {
  constructor(readonly customerId: string) {
    super();
  }
}

export class ExplainCustomerQuery extends Query<Explanation[] | null> {
  constructor(
    readonly customerId: string,
    readonly all: boolean,
  ) {
    super();
  }
}

export class ListQuarantineQuery extends Query<{ total: number; items: QuarantinedMessage[] }> {
  constructor(
    readonly limit: number,
    readonly offset: number,
  ) {
    super();
  }
}

export interface VerifyReport {
  clean: boolean;
  history: HistoryVerification;
  projections: ProjectionVerification;
}

export class VerifyQuery extends Query<VerifyReport> {}

/** Re-derive history under a proposed policy (a partial policy laid over the latest version). Records nothing. */
export class WhatIfQuery extends Query<WhatIfReport> {
  constructor(readonly patch: Record<string, unknown>) {
    super();
  }
}

export class ListPoliciesQuery extends Query<(Policy & { adoptedAt: string | null })[]> {}

export class AdoptPolicyCommand extends Command<AdoptedPolicy> {
  constructor(readonly patch: Record<string, unknown>) {
    super();
  }
}

@QueryHandler(GetHistoryQuery)
export class GetHistoryHandler implements IQueryHandler<GetHistoryQuery> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  async execute(q: GetHistoryQuery) {
    const events = await streamEvents(this.w.store, customerStream(q.customerId));
    return events.length === 0 ? null : events;
  }
}

@QueryHandler(ExplainCustomerQuery)
export class ExplainCustomerHandler implements IQueryHandler<ExplainCustomerQuery> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  async execute(q: ExplainCustomerQuery) {
    const events = await streamEvents(this.w.store, customerStream(q.customerId));
    return events.length === 0 ? null : explain(events, q.all);
  }
}

@QueryHandler(ListQuarantineQuery)
export class ListQuarantineHandler implements IQueryHandler<ListQuarantineQuery> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  execute(q: ListQuarantineQuery) {
    return Promise.resolve({ total: this.w.quarantine.count(), items: this.w.quarantine.list({ limit: q.limit, offset: q.offset }) });
  }
}

@QueryHandler(VerifyQuery)
export class VerifyHandler implements IQueryHandler<VerifyQuery> {
  constructor(
    @Inject(WRITE_SIDE) private readonly w: WriteSide,
    @Inject(READ_SIDE) private readonly r: ReadView,
  ) {}
  async execute(): Promise<VerifyReport> {
    const history = await verifyHistory(this.w.store, this.w.policies);
    const projections = await verifyProjections(this.w.store, this.r);
    return { clean: history.chainBreaks === 0 && history.derivedDifferences === 0 && projections.differences === 0, history, projections };
  }
}

@QueryHandler(WhatIfQuery)
export class WhatIfHandler implements IQueryHandler<WhatIfQuery> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  async execute(q: WhatIfQuery) {
    return whatIfPatch(this.w.store, this.w.policies, q.patch);
  }
}

@QueryHandler(ListPoliciesQuery)
export class ListPoliciesHandler implements IQueryHandler<ListPoliciesQuery> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  execute() {
    return this.w.policies.versions();
  }
}

@CommandHandler(AdoptPolicyCommand)
export class AdoptPolicyHandler implements ICommandHandler<AdoptPolicyCommand> {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}
  async execute(c: AdoptPolicyCommand) {
    return this.w.policies.adoptPatch(c.patch, await this.w.periods.closedThrough());
  }
}

export const AUDIT_COMMAND_HANDLERS = [AdoptPolicyHandler];
export const AUDIT_QUERY_HANDLERS = [GetHistoryHandler, ExplainCustomerHandler, ListQuarantineHandler, VerifyHandler, WhatIfHandler, ListPoliciesHandler];
