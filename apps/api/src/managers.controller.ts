import { Controller, ForbiddenException, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GetAlertsQuery, GetPortfolioQuery } from '@crm/application';
import type { Principal } from '@crm/config';
import { CurrentPrincipal, Roles } from './auth/auth';
import { AlertsQueryDto, PortfolioQueryDto } from './dto';

/** A manager may look only at its own portfolio and alerts. */
function assertOwn(who: Principal, managerId: string): void {
  if (who.role === 'manager' && who.managerId !== managerId) throw new ForbiddenException('a manager sees only its own portfolio and alerts');
}

@ApiTags('managers')
@ApiBearerAuth()
@Controller('v1')
export class ManagersController {
  constructor(private readonly queries: QueryBus) {}

  @Get('managers/:managerId/portfolio')
  @Roles('manager', 'analyst')
  @ApiOperation({ summary: "A manager's customers: filter by tier, stage, risk; sort; paginate. Roles: manager (own), analyst (masked), admin" })
  portfolio(@Param('managerId') managerId: string, @Query() q: PortfolioQueryDto, @CurrentPrincipal() who: Principal) {
    assertOwn(who, managerId);
    return this.queries.execute(
      new GetPortfolioQuery({ managerId, tier: q.tier, stage: q.stage, risk: q.risk, sort: q.sort, order: q.order, page: q.page, pageSize: q.pageSize }, { mask: who.role === 'analyst' }),
    );
  }

  @Get('managers/:managerId/alerts')
  @Roles('manager', 'analyst')
  @ApiOperation({ summary: "A manager's open alerts: downgrades, HIGH risk, SLA breaches, win-back candidates, close to the next tier. Roles: manager (own), analyst (masked), admin" })
  alerts(@Param('managerId') managerId: string, @Query() q: AlertsQueryDto, @CurrentPrincipal() who: Principal) {
    assertOwn(who, managerId);
    return this.queries.execute(new GetAlertsQuery({ managerId, kind: q.kind, page: q.page, pageSize: q.pageSize }, { mask: who.role === 'analyst' }));
  }

  @Get('alerts')
  @Roles('analyst')
  @ApiOperation({ summary: 'Every open alert, including key accounts without a manager (kind=KEY_ACCOUNT_UNASSIGNED). Roles: analyst (masked), admin' })
  allAlerts(@Query() q: AlertsQueryDto, @CurrentPrincipal() who: Principal) {
    return this.queries.execute(new GetAlertsQuery({ kind: q.kind, page: q.page, pageSize: q.pageSize }, { mask: who.role === 'analyst' }));
  }
}
