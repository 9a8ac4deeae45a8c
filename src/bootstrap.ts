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
const OPERATOR_ROUTES = /^\/(metrics|health|ready)(\/|\?|$)/;

/**
 * HTTP_CORS_ORIGINS, except that open development mode (no keys: any
 * caller is an operator) never allows every origin: any web page the
 * developer opens could otherwise drive the gateway and spend its model key.
 */
function corsOrigins(config: AppConfig): string[] {
  const { corsOrigins: origins } = config.httpApi;
  return config.auth.openMode ? origins.filter((origin) => origin !== '*') : origins;
}

export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/**
 * What main.ts and the e2e tests both do to an app before it listens, so tests
 * run the real thing. Signals are main.ts's business: Nest's shutdown hooks
 * would re-raise SIGTERM after closing, and the process must exit 0.
 */
export function configureApp(app: INestApplication, config: AppConfig): INestApplication {
  app.useLogger(app.get(Logger));
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  const origins = corsOrigins(config);
  // Browser chat apps send their key in a header, never a cookie: no credentials, every response header readable.
  // The unauthenticated routes (metrics, health) are for operators, never for another origin's page.
  if (origins.length > 0) {
    const cors = { origin: origins.includes('*') ? '*' : origins, exposedHeaders: '*', maxAge: 600 };
    app.enableCors((req: { url?: string }, done: (error: Error | null, options: object) => void) =>
      done(null, OPERATOR_ROUTES.test(req.url ?? '') ? { origin: false } : cors),
    );
  }
  // Every HTTP error, unknown routes included, in OpenAI's shape.
  app.useGlobalFilters(new HttpErrorFilter());
  app.useWebSocketAdapter(new EnvelopeWsAdapter(app, config));
  return app;
}
