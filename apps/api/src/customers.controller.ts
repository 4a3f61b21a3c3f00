import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { WriteSide } from '@crm/ingest';
import { customerView } from '@crm/projections';
import { WRITE_SIDE } from './tokens';

@ApiTags('customers')
@Controller('v1/customers')
export class CustomersController {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}

  @Get(':id')
  @ApiOperation({ summary: 'Customer 360' })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO-8601 instant: the customer as of then (by occurredAt)' })
  async get(@Param('id') id: string, @Query('asOf') asOf?: string) {
    const v = await customerView(this.w.store, id, asOf);
    if (!v) throw new NotFoundException(`customer ${id} not found`);
    return v;
  }
}
