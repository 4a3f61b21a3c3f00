import { BadRequestException, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ClosePeriodCommand, RebuildProjectionsCommand, SweepCommand } from '@crm/application';
import { IsInstant, MONTH } from '@crm/contracts';
import { Roles } from './auth/auth';

export class SweepRequest {
  @ApiProperty({ example: '2026-09-01T00:00:00+08:00' })
  @IsInstant({ message: 'asOf must be a real ISO-8601 instant with an offset, e.g. 2026-09-01T00:00:00+08:00' })
  asOf!: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin')
export class AdminController {
  constructor(private readonly commands: CommandBus) {}

  @Post('periods/:month/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close a month (YYYY-MM) for every customer: the tier decisions of DESIGN §4.1. Role: admin' })
  close(@Param('month') month: string) {
    if (!MONTH.test(month)) throw new BadRequestException(['month must be YYYY-MM']);
    return this.commands.execute(new ClosePeriodCommand(month));
  }

  @Post('sweep')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record the inactivity transitions and SLA breaches due at asOf. Role: admin' })
  sweep(@Body() body: SweepRequest) {
    return this.commands.execute(new SweepCommand(body.asOf));
  }

  @Post('rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild every projection from position 0, blue/green: reads keep the current views until the new ones caught up. Role: admin' })
  rebuild() {
    return this.commands.execute(new RebuildProjectionsCommand());
  }
}
