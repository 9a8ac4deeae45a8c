import { type INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { lastValueFrom, type Observable } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import type { AppConfig } from '../config/config.schema.js';
import { parseEnvelope } from './envelope-parser.js';

/**
 * `WsAdapter` with the protocol's envelope parsing, the configured path and
 * frame size limit (ws would otherwise accept 100 MiB frames; a bigger frame
 * closes the socket with 1009, as RFC 6455 prescribes), and in-order handling.
 */
export class EnvelopeWsAdapter extends WsAdapter {
  private readonly log = new Logger(EnvelopeWsAdapter.name);

  constructor(
    app: INestApplicationContext,
    private readonly wsConfig: AppConfig['ws'],
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): unknown {
    return super.create(port, {
      ...options,
      path: this.wsConfig.path,
      maxPayload: this.wsConfig.maxPayloadBytes,
      perMessageDeflate: false,
    });
  }

  /**
   * Nest's handlers are async (guards and pipes are awaited), and the stock
   * adapter starts each message's handler as soon as it arrives, so a REQUEST
   * and the INTERRUPT right behind it could be handled in either order. Here
   * each message waits for the previous one of the same client. A plain
   * listener and a promise chain also keep an idle connection small, where
   * the stock per-client RxJS pipeline costs a few kilobytes.
   */
  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    let previous: Promise<void> = Promise.resolve();
    client.on('message', (data: RawData, isBinary: boolean) => {
      const { event, data: message } = parseEnvelope(isBinary ? data : data.toString());
      const handler = handlers.find((h) => h.message === event);
      if (!handler) return;
      previous = previous.then(() => this.dispatch(client, handler, message, transform));
    });
  }

  private async dispatch(
    client: WebSocket,
    handler: MessageMappingProperties,
    message: unknown,
    transform: (data: unknown) => Observable<unknown>,
  ): Promise<void> {
    try {
      const result = await lastValueFrom(transform(handler.callback(message, handler.message)), { defaultValue: undefined });
      if (result !== undefined && result !== null && client.readyState === client.OPEN) client.send(JSON.stringify(result));
    } catch (error) {
      // Filters turn handler errors into ERROR frames; reaching here is a bug.
      this.log.error(error);
    }
  }
}
