import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { WriteSide } from '@crm/ingest';
import { WRITE_SIDE } from './tokens';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    return { status: 'ready', position: String(await this.w.store.headPosition()) };
  }
}
