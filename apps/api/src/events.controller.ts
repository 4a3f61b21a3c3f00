import { BadRequestException, Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IngestResult, RawInput, WriteSide } from '@crm/ingest';
import { WRITE_SIDE } from './tokens';

@ApiTags('ingest')
@Controller('v1/events')
export class EventsController {
  constructor(@Inject(WRITE_SIDE) private readonly w: WriteSide) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Ingest upstream events (DESIGN §3): NDJSON (application/x-ndjson) or a JSON array (application/json)' })
  @ApiConsumes('application/x-ndjson', 'application/json')
  @ApiBody({ description: 'one upstream event per line, or an array of them', schema: { type: 'string' } })
  @ApiOkResponse({ description: 'accepted / duplicates / rejected with reasons, and the store position reached' })
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
    return this.w.pipeline.ingest(items, { source: 'http' });
  }
}
