import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppDeps, AppModule } from './app.module';

export const BODY_LIMIT = process.env.CRM_BODY_LIMIT ?? '16mb';

/** Builds the HTTP app around a write side, a read side and the API tokens (used by main and by the e2e tests). */
export async function createApp(deps: AppDeps, options: { logLevel?: string } = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forDeps(deps, options), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', { type: ['application/x-ndjson', 'text/plain'], limit: BODY_LIMIT });
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('courier-crm')
      .setDescription('Customer tiers, lifecycle, churn risk and complaint service levels for an express courier. Bearer tokens: CRM_API_TOKENS (DESIGN §5).')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc);
  app.enableShutdownHooks();
  return app;
}
