import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { WriteSide } from '@crm/ingest';
import { AppModule } from './app.module';

export const BODY_LIMIT = process.env.CRM_BODY_LIMIT ?? '16mb';

/** Builds the HTTP app around a write side (used by main and by the e2e tests). */
export async function createApp(writeSide: WriteSide, options: { logLevel?: string } = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forWriteSide(writeSide, options), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', { type: ['application/x-ndjson', 'text/plain'], limit: BODY_LIMIT });
  const doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('courier-crm').setVersion('1').addBearerAuth().build());
  SwaggerModule.setup('docs', app, doc);
  app.enableShutdownHooks();
  return app;
}
