import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

/** JSON logs through pino; WebSocket code logs with session_id and request_id fields. */
@Module({})
export class LoggingModule {
  /**
   * Called when the app is put together, after every module's file has been
   * read: nestjs-pino provides a logger for each @InjectPinoLogger() it has
   * seen by the time forRootAsync() runs.
   */
  static forRoot(): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            // The hot path logs for itself; skipping pino-http there saves a logger and a context per request.
            exclude: [{ path: 'v1/chat/completions', method: RequestMethod.POST }],
            pinoHttp: {
              level: config.log.level,
              ...(config.log.pretty && { transport: { target: 'pino-pretty', options: { singleLine: true } } }),
              redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
              // Request logs are written where the gateway knows what happened (e.g. a 499 with its token count).
              autoLogging: false,
            },
          }),
        }),
      ],
    };
  }
}
