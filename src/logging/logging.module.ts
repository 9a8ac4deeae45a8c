import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

/** JSON logs through pino; WebSocket code logs with session_id and request_id fields. */
/** The model APIs' routes, with and without `/v1` where both are served: each logs its own calls (ModelCalls). */
const MODEL_ROUTES = [
  'v1/chat/completions',
  'chat/completions',
  'v1/responses',
  'responses',
  'v1/embeddings',
  'embeddings',
  'v1/messages',
  'api/chat',
  'api/generate',
  'api/embed',
];

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
            exclude: MODEL_ROUTES.map((path) => ({ path, method: RequestMethod.POST })),
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
