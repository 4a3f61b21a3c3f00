import { Command } from '@nestjs/cqrs';
import type { PeriodCloseResult, IngestResult, RawInput, SweepResult } from '@crm/ingest';
import type { RebuildReport } from '@crm/projections';

/** Upstream events into the one ingest pipeline. */
export class IngestEventsCommand extends Command<IngestResult> {
  constructor(
    readonly items: RawInput[],
    readonly source: string,
  ) {
    super();
  }
}

export class ClosePeriodCommand extends Command<PeriodCloseResult> {
  constructor(readonly month: string) {
    super();
  }
}

export class SweepCommand extends Command<SweepResult> {
  constructor(readonly asOf: string) {
    super();
  }
}

export class RebuildProjectionsCommand extends Command<RebuildReport> {}
