import { BadRequestException, Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { AdoptPolicyCommand, ExplainCustomerQuery, GetHistoryQuery, ListPoliciesQuery, ListQuarantineQuery, VerifyQuery, WhatIfQuery } from '@crm/application';
import { PolicyError } from '@crm/domain';
import { PolicyAdoptionError } from '@crm/ingest';
import { Roles } from './auth/auth';

export class QuarantineQueryDto {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Transform(({ value }) => Number(value))
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(1000, { message: 'limit must be at most 1000' })
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Transform(({ value }) => Number(value))
  @IsInt({ message: 'offset must be an integer' })
  @Min(0, { message: 'offset must be ≥ 0' })
  offset?: number;
}

export class ExplainQueryDto {
  @ApiPropertyOptional({ description: 'also every month close and fact', default: false })
  @IsOptional()
  @Transform(({ value }) => value === 'true' || value === true)
  @IsBoolean({ message: 'all must be true or false' })
  all?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A policy body must be a JSON object; PolicyError becomes a 400 naming every field, an adoption refused a 409. */
async function policyCall<T>(body: unknown, fn: (patch: Record<string, unknown>) => Promise<T>): Promise<T> {
  if (!isObject(body)) throw new BadRequestException(['the body must be a JSON object of policy settings']);
  try {
    return await fn(body);
  } catch (err) {
    if (err instanceof PolicyError) throw new BadRequestException(err.errors);
    if (err instanceof PolicyAdoptionError) throw new ConflictException(err.message);
    throw err;
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
export class AuditController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  @Get('customers/:id/history')
  @Roles('auditor')
  @ApiOperation({ summary: "A customer's whole recorded stream with metadata (upstream eventId, correlation and causation ids, policy version, occurred and recorded times, position, hash). Roles: auditor, admin" })
  async history(@Param('id') id: string) {
    const events = await this.queries.execute(new GetHistoryQuery(id));
    if (events === null) throw new NotFoundException(`customer ${id} not found`);
    return { customerId: id, events: events.map((e) => ({ ...e, position: String(e.position) })) };
  }

  @Get('customers/:id/explain')
  @Roles('auditor')
  @ApiOperation({ summary: 'Why-history: every tier, lifecycle, risk and SLA decision with the inputs and policy version that made it. Roles: auditor, admin' })
  async explain(@Param('id') id: string, @Query() q: ExplainQueryDto) {
    const explanations = await this.queries.execute(new ExplainCustomerQuery(id, q.all === true));
    if (explanations === null) throw new NotFoundException(`customer ${id} not found`);
    return { customerId: id, explanations };
  }

  @Get('quarantine')
  @Roles('auditor')
  @ApiOperation({ summary: 'Rejected input, kept with the raw message and every reason. Roles: auditor, admin' })
  quarantine(@Query() q: QuarantineQueryDto) {
    return this.queries.execute(new ListQuarantineQuery(q.limit ?? 100, q.offset ?? 0));
  }

  @Post('audit/verify')
  @HttpCode(200)
  @Roles('auditor')
  @ApiOperation({ summary: 'Re-derive every stream from its facts and check every hash chain; rebuild the projections into a scratch store and compare with the live ones. `clean` is false on any difference, each listed. Roles: auditor, admin' })
  verify() {
    return this.queries.execute(new VerifyQuery());
  }

  @Post('audit/what-if')
  @HttpCode(200)
  @Roles('auditor', 'analyst')
  @ApiOperation({ summary: 'Re-derive history under a proposed policy (body: the settings that change, e.g. {"tierFloorsFen":{"VIP":1500000}}; effectiveFrom defaults to the start of history) and report who would be elsewhere. Records nothing. Roles: auditor, analyst, admin' })
  whatIf(@Body() body: unknown) {
    return policyCall(body, (patch) => this.queries.execute(new WhatIfQuery(patch)));
  }

  @Get('policies')
  @Roles('auditor', 'analyst')
  @ApiOperation({ summary: 'The policy versions, each with its effective month and when it was adopted. Roles: auditor, analyst, admin' })
  policies() {
    return this.queries.execute(new ListPoliciesQuery());
  }

  @Post('admin/policies')
  @HttpCode(201)
  @ApiOperation({ summary: 'Adopt a new policy version (body: the settings that change and effectiveFrom YYYY-MM after the last closed month); it decides from then on and never rewrites history. Role: admin' })
  async adopt(@Body() body: unknown) {
    const adopted = await policyCall(body, (patch) => this.commands.execute(new AdoptPolicyCommand(patch)));
    return { ...adopted, position: String(adopted.position) };
  }
}
