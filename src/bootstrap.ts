import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from './config/config.schema.js';
import { EnvelopeWsAdapter } from './gateway/envelope-ws.adapter.js';
import { HttpErrorFilter } from './http/http-error.filter.js';

/**
 * How main.ts and the e2e tests create the app. Nest's body parser is off:
 * the HTTP endpoints read their bodies themselves, so that a bad body gets the
 * same OpenAI-style error as anything else.
 */
export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/**
 * What main.ts and the e2e tests both do to an app before it listens, so tests
 * run the real thing. Signals are main.ts's business: Nest's shutdown hooks
 * would re-raise SIGTERM after closing, and the process must exit 0.
 */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  app.useLogger(app.get(Logger));
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  const origins = config.httpApi.corsOrigins;
  // Browser chat apps send their key in a header, never a cookie: no credentials, every response header readable.
  if (origins.length > 0) app.enableCors({ origin: origins.includes('*') ? '*' : origins, exposedHeaders: '*', maxAge: 600 });
  // Every HTTP error, unknown routes included, in OpenAI's shape.
  app.useGlobalFilters(new HttpErrorFilter());
  app.useWebSocketAdapter(new EnvelopeWsAdapter(app, config));
  return app;
}
