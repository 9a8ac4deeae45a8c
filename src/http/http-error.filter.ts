import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import { errorBodyFor } from './api-error-body.js';

/**
 * Every HTTP error, on every route (bootstrap.ts makes it global; WebSocket
 * handlers have their own filter), in the format of the API the route
 * belongs to (OpenAI's `{"error": {message, type, code}}` by default), with
 * the status of its code. Internal
 * errors are logged and reach the client as INTERNAL_ERROR only.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<ServerResponse>();
    const { status, body, retryAfterSeconds } = this.describe(exception, http.getRequest<IncomingMessage>());
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response
      .writeHead(status, {
        'content-type': 'application/json',
        ...(retryAfterSeconds !== undefined && { 'retry-after': String(retryAfterSeconds) }),
      })
      .end(JSON.stringify(body));
  }

  private describe(exception: unknown, request: IncomingMessage): { status: number; body: object; retryAfterSeconds?: number } {
    const path = (request.url ?? '/').split('?')[0];
    if (exception instanceof HttpException) {
      // Nest's own: the router's for an unknown route; nothing else is expected.
      const status = exception.getStatus();
      if (status === 404) {
        const error = new GatewayError('ROUTE_NOT_FOUND', { message: `Unknown endpoint: ${request.method ?? 'GET'} ${path}` });
        return { status, body: errorBodyFor(path, error) };
      }
      this.logger.warn(`${status} from Nest: ${exception.message}`);
      return { status, body: errorBodyFor(path, new GatewayError(status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_MESSAGE'), status) };
    }
    const error = toGatewayError(exception);
    if (error.code === 'INTERNAL_ERROR') this.logger.error(exception);
    return { status: error.status, body: errorBodyFor(path, error), retryAfterSeconds: error.retryAfterSeconds };
  }
}
