import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { READ_SIDE, WRITE_SIDE } from '@crm/application';
import type { WriteSide } from '@crm/ingest';
import type { ReadView } from '@crm/projections';
import { Public } from './auth/auth';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(WRITE_SIDE) private readonly w: WriteSide,
    @Inject(READ_SIDE) private readonly r: ReadView,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the store answers and the projections run; positions of both' })
  async ready() {
    const head = await this.w.store.headPosition();
    const error = this.r.error;
    if (error !== null) throw new ServiceUnavailableException(`projections stopped: ${error instanceof Error ? error.message : String(error)}`);
    return { status: 'ready', storePosition: String(head), projectedPosition: String(this.r.readPosition), views: this.r.entries().map((e) => ({ view: e._id, collection: e.collection, version: e.version })) };
  }
}
