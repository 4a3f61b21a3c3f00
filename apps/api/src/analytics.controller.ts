import { Controller, Get, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GetComplaintsQuery, GetFunnelQuery, GetManagerLoadQuery, GetPyramidQuery } from '@crm/application';
import { ANALYTICS_CSV } from '@crm/projections';
import { Roles } from './auth/auth';
import { AnalyticsQueryDto } from './dto';

/** The part of the HTTP response a CSV answer sets. */
interface Response {
  setHeader(name: string, value: string): void;
}

@ApiTags('analytics')
@ApiBearerAuth()
@Roles('analyst', 'auditor')
@Controller('v1/analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  private async answer<T>(res: Response, q: AnalyticsQueryDto, rows: T, csv: (rows: T) => string, name: string): Promise<T | string> {
    if (q.format !== 'csv') return rows;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
    return csv(rows);
  }

  @Get('pyramid')
  @ApiOperation({ summary: 'Tier pyramid per closed month: customers and contribution per tier, shares against the 80/15/4/1 shape (?format=csv). Roles: analyst, auditor, admin' })
  async pyramid(@Query() q: AnalyticsQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(res, q, await this.queries.execute(new GetPyramidQuery({ from: q.from, to: q.to })), ANALYTICS_CSV.pyramid, 'pyramid');
  }

  @Get('funnel')
  @ApiOperation({ summary: 'Lifecycle funnel per month: customers per stage at month end and the transitions of the month (?format=csv)' })
  async funnel(@Query() q: AnalyticsQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(res, q, await this.queries.execute(new GetFunnelQuery({ from: q.from, to: q.to })), ANALYTICS_CSV.funnel, 'funnel');
  }

  @Get('complaints')
  @ApiOperation({ summary: 'Complaints by category × source × tier with SLA-breach rates, over filing months (?format=csv)' })
  async complaints(@Query() q: AnalyticsQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(res, q, await this.queries.execute(new GetComplaintsQuery({ from: q.from, to: q.to })), ANALYTICS_CSV.complaints, 'complaints');
  }

  @Get('manager-load')
  @ApiOperation({ summary: 'Customers and key accounts (VIP + PROJECT) per manager; more than 40 key accounts is overloaded (?format=csv)' })
  async managerLoad(@Query() q: AnalyticsQueryDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(res, q, await this.queries.execute(new GetManagerLoadQuery()), ANALYTICS_CSV.managerLoad, 'manager-load');
  }
}
