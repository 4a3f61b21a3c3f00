import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GetCustomerQuery } from '@crm/application';
import type { Principal } from '@crm/config';
import { CurrentPrincipal, Roles } from './auth/auth';
import { CustomerQueryDto } from './dto';

@ApiTags('customers')
@ApiBearerAuth()
@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @Roles('manager', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Customer 360. Managers see only their own customers (others are 404); analysts see personal data masked. Roles: manager, analyst, auditor, admin' })
  async get(@Param('id') id: string, @Query() q: CustomerQueryDto, @CurrentPrincipal() who: Principal) {
    const v = await this.queries.execute(new GetCustomerQuery(id, { mask: who.role === 'analyst' }, { asOf: q.asOf, knownAt: q.knownAt }));
    // A manager must not learn that another manager's customer exists.
    if (v === null || (who.role === 'manager' && v.managerId !== who.managerId)) throw new NotFoundException(`customer ${id} not found`);
    return v;
  }
}
