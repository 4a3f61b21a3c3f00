import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsInstant, MONTH, RISK_LEVELS, STAGES, TIERS } from '@crm/contracts';
import { ALERT_KINDS, MAX_PAGE_SIZE, PORTFOLIO_SORTS } from '@crm/projections';

const list = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value);
const int = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value);

/** `minPosition` is read by the read-your-writes interceptor; declared here so validation lets it through. */
export class ReadQuery {
  @ApiPropertyOptional({ description: 'wait (bounded) until the projections reached this store position (returned by POST /v1/events)' })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'minPosition must be a store position (digits)' })
  minPosition?: string;
}

export class PageQuery extends ReadQuery {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Transform(int)
  @IsInt({ message: 'page must be an integer ≥ 1' })
  @Min(1, { message: 'page must be an integer ≥ 1' })
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Transform(int)
  @IsInt({ message: `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}` })
  @Min(1, { message: `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}` })
  @Max(MAX_PAGE_SIZE, { message: `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}` })
  pageSize?: number;
}

export class CustomerQueryDto extends ReadQuery {
  @ApiPropertyOptional({ description: 'ISO-8601 instant: the customer as of then (what had occurred by then)', example: '2026-03-03T00:00:00+08:00' })
  @IsOptional()
  @IsInstant({ message: 'asOf must be a real ISO-8601 instant with an offset, e.g. 2026-03-03T00:00:00+08:00' })
  asOf?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant: the customer as the system knew it then (what had been recorded by then; late data left out). Auditors and admins only.', example: '2026-03-03T00:00:00+08:00' })
  @IsOptional()
  @IsInstant({ message: 'knownAt must be a real ISO-8601 instant with an offset, e.g. 2026-03-03T00:00:00+08:00' })
  knownAt?: string;
}

export class PortfolioQueryDto extends PageQuery {
  @ApiPropertyOptional({ description: 'comma-separated tiers', example: 'VIP,PROJECT' })
  @IsOptional()
  @Transform(list)
  @IsIn(TIERS, { each: true, message: `tier must be a comma-separated list of ${TIERS.join(', ')}` })
  tier?: (typeof TIERS)[number][];

  @ApiPropertyOptional({ description: 'comma-separated stages', example: 'WINBACK' })
  @IsOptional()
  @Transform(list)
  @IsIn(STAGES, { each: true, message: `stage must be a comma-separated list of ${STAGES.join(', ')}` })
  stage?: (typeof STAGES)[number][];

  @ApiPropertyOptional({ description: 'comma-separated risk levels', example: 'HIGH' })
  @IsOptional()
  @Transform(list)
  @IsIn(RISK_LEVELS, { each: true, message: `risk must be a comma-separated list of ${RISK_LEVELS.join(', ')}` })
  risk?: (typeof RISK_LEVELS)[number][];

  @ApiPropertyOptional({ enum: PORTFOLIO_SORTS, default: 'monthToDateFen' })
  @IsOptional()
  @IsIn(PORTFOLIO_SORTS, { message: `sort must be one of ${PORTFOLIO_SORTS.join(', ')}` })
  sort?: (typeof PORTFOLIO_SORTS)[number];

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'], { message: 'order must be asc or desc' })
  order?: 'asc' | 'desc';
}

export class AlertsQueryDto extends PageQuery {
  @ApiPropertyOptional({ description: 'comma-separated alert kinds', example: 'HIGH_RISK,SLA_BREACH' })
  @IsOptional()
  @Transform(list)
  @IsIn(ALERT_KINDS, { each: true, message: `kind must be a comma-separated list of ${ALERT_KINDS.join(', ')}` })
  kind?: (typeof ALERT_KINDS)[number][];
}

export class AnalyticsQueryDto extends ReadQuery {
  @ApiPropertyOptional({ description: 'first month YYYY-MM', example: '2026-01' })
  @IsOptional()
  @Matches(MONTH, { message: 'from must be a month YYYY-MM' })
  from?: string;

  @ApiPropertyOptional({ description: 'last month YYYY-MM', example: '2026-10' })
  @IsOptional()
  @Matches(MONTH, { message: 'to must be a month YYYY-MM' })
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'format must be json or csv' })
  format?: 'json' | 'csv';
}
