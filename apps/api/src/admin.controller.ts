import { BadRequestException, Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ISO_WITH_OFFSET, MONTH } from '@crm/contracts';
import { sweepAll, WriteSide } from '@crm/ingest';
import { WRITE_SIDE } from './tokens';

export class SweepRequest {
  @ApiProperty({ example: '2026-09-01T00:00:00+08:00' })
  @Matches(ISO_WITH_OFFSET, { message: 'asOf must be an ISO-8601 instant with an offset' })
  asOf!: string;
}

@ApiTags('admin')
@Controller('v1/admin')
export class AdminController {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}

  @Post('periods/:month/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close a month (YYYY-MM) for every customer: the tier decisions of DESIGN §4.1' })
  close(@Param('month') month: string) {
    if (!MONTH.test(month)) throw new BadRequestException('month must be YYYY-MM');
    return this.w.periods.close(month, this.w.writer);
  }

  @Post('sweep')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record the inactivity transitions and SLA breaches due at asOf' })
  sweep(@Body() body: SweepRequest) {
    return sweepAll(this.w.store, this.w.writer, body.asOf);
  }
}
