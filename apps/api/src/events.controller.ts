import { BadRequestException, Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IngestEventsCommand } from '@crm/application';
import type { IngestResult, RawInput } from '@crm/ingest';
import { Roles } from './auth/auth';

@ApiTags('ingest')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @Roles('ingest')
  @ApiOperation({ summary: 'Ingest upstream events (DESIGN §3): NDJSON (application/x-ndjson) or a JSON array (application/json). Roles: ingest, admin' })
  @ApiConsumes('application/x-ndjson', 'application/json')
  @ApiBody({ description: 'one upstream event per line, or an array of them', schema: { type: 'string' } })
  @ApiOkResponse({ description: 'accepted / duplicates / rejected with reasons, and the store position reached (pass it as ?minPosition= to read your writes)' })
  async ingest(@Body() body: unknown, @Headers('content-type') contentType = ''): Promise<IngestResult> {
    const items: RawInput[] = [];
    if (typeof body === 'string') {
      // NDJSON: blank lines are not messages; line numbers stay those of the body.
      body.split('\n').forEach((raw, i) => {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() !== '') items.push({ line: i + 1, raw: line });
      });
    } else if (Array.isArray(body)) {
      body.forEach((value, i) => items.push({ line: i + 1, value }));
    } else if (body !== null && typeof body === 'object' && Object.keys(body).length > 0) {
      items.push({ line: 1, value: body });
    } else {
      throw new BadRequestException(`body must be NDJSON (application/x-ndjson) or a JSON array of events (application/json); got content-type "${contentType}" and no events`);
    }
    if (items.length === 0) throw new BadRequestException('body holds no events');
    return this.commands.execute(new IngestEventsCommand(items, 'http'));
  }
}
