import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { WriteSide } from '@crm/ingest';
import { AdminController } from './admin.controller';
import { CustomersController } from './customers.controller';
import { EventsController } from './events.controller';
import { HealthController } from './health.controller';
import { WRITE_SIDE } from './tokens';

@Module({})
export class AppModule {
  static forWriteSide(writeSide: WriteSide, options: { logLevel?: string } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info', autoLogging: { ignore: (req) => req.url === '/health' } } })],
      controllers: [EventsController, AdminController, CustomersController, HealthController],
      providers: [
        { provide: WRITE_SIDE, useValue: writeSide },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, transform: true }) },
      ],
    };
  }
}
