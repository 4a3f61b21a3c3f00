import { BadRequestException, CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, ServiceUnavailableException } from '@nestjs/common';
import { from, Observable, switchMap } from 'rxjs';
import { READ_SIDE } from '@crm/application';
import type { ReadView } from '@crm/projections';

/** How long a read waits for the projections to reach `minPosition` (CRM_READ_WAIT_MS, default 5,000). */
export const READ_WAIT_MS = Number(process.env.CRM_READ_WAIT_MS ?? 5_000);

/**
 * Read your own writes: a read with `?minPosition=<position an ingest returned>` (or the header
 * `X-Min-Position`) waits, bounded, until every view has projected that position; 503 if it has not in
 * time. Every read answers with the position it reflects in `X-Read-Position`.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(@Inject(READ_SIDE) private readonly readSide: ReadView) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<{ method: string; query: Record<string, unknown>; headers: Record<string, unknown> }>();
    const res = http.getResponse<{ setHeader(name: string, value: string): void }>();
    if (req.method !== 'GET') return next.handle();
    const raw = req.query.minPosition ?? req.headers['x-min-position'];
    const wait = async () => {
      if (raw !== undefined) {
        if (typeof raw !== 'string' || !/^\d{1,20}$/.test(raw)) throw new BadRequestException(['minPosition must be a store position (digits), as returned by POST /v1/events']);
        if (!(await this.readSide.waitFor(BigInt(raw), READ_WAIT_MS)))
          throw new ServiceUnavailableException(`projections have not reached position ${raw} within ${READ_WAIT_MS} ms (now at ${this.readSide.readPosition}); retry`);
      }
      res.setHeader('X-Read-Position', this.readSide.readPosition.toString());
    };
    return from(wait()).pipe(switchMap(() => next.handle()));
  }
}
