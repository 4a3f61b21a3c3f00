import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AUDIT_COMMAND_HANDLERS, AUDIT_QUERY_HANDLERS, COMMAND_HANDLERS, QUERY_HANDLERS, READ_SIDE, WRITE_SIDE } from '@crm/application';
import type { ApiTokens } from '@crm/config';
import type { WriteSide } from '@crm/ingest';
import type { ReadView } from '@crm/projections';
import { AdminController } from './admin.controller';
import { AnalyticsController } from './analytics.controller';
import { AuditController } from './audit.controller';
import { API_TOKENS, AuthGuard } from './auth/auth';
import { CustomersController } from './customers.controller';
import { EventsController } from './events.controller';
import { HealthController } from './health.controller';
import { ManagersController } from './managers.controller';
import { ReadYourWritesInterceptor } from './read-your-writes';

export interface AppDeps {
  writeSide: WriteSide;
  readSide: ReadView;
  tokens: ApiTokens;
}

@Module({})
export class AppModule {
  static forDeps(deps: AppDeps, options: { logLevel?: string } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info',
            autoLogging: { ignore: (req) => req.url === '/health' },
            redact: ['req.headers.authorization'],
          },
        }),
      ],
      controllers: [EventsController, AdminController, CustomersController, ManagersController, AnalyticsController, AuditController, HealthController],
      providers: [
        { provide: WRITE_SIDE, useValue: deps.writeSide },
        { provide: READ_SIDE, useValue: deps.readSide },
        { provide: API_TOKENS, useValue: deps.tokens },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
        ...COMMAND_HANDLERS,
        ...QUERY_HANDLERS,
        ...AUDIT_COMMAND_HANDLERS,
        ...AUDIT_QUERY_HANDLERS,
      ],
    };
  }
}
