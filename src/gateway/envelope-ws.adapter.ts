import { type INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { lastValueFrom, type Observable } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import type { AppConfig } from '../config/config.schema.js';
import { ERROR_CODES } from '@agent-gateway/protocol';
import type { Connection } from './connection.js';
import { type ParsedFrame, parseEnvelope } from './envelope-parser.js';
import type { TokenBucket } from './token-bucket.js';
import { InboundScheduler } from './inbound-scheduler.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { ConnectionRegistry } from './connection-registry.service.js';

/** The longest a turn of the event loop spends handling messages before sockets are read again. */
const HANDLING_SLICE_MS = 4;
/** What a waiting message costs besides its bytes (its closure, its place in the queue): an empty one is not free. */
const MESSAGE_OVERHEAD_BYTES = 512;

/**
 * `WsAdapter` with the protocol's envelope parsing, the configured path and
 * frame size limit (ws would otherwise accept 100 MiB frames; a bigger frame
 * closes the socket with 1009, as RFC 6455 prescribes), rate limits charged
 * as of each message's arrival, and fair, in-order handling with a bounded
 * backlog per connection.
 */
export class EnvelopeWsAdapter extends WsAdapter {
  private readonly log = new Logger(EnvelopeWsAdapter.name);
  private readonly scheduler = new InboundScheduler(HANDLING_SLICE_MS);

  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: Pick<AppConfig, 'ws' | 'json'>,
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): unknown {
    return super.create(port, {
      ...options,
      path: this.config.ws.path,
      maxPayload: this.config.ws.maxPayloadBytes,
      perMessageDeflate: false,
      // One message (or ping) per turn of the event loop and socket, however many one read brought: a
      // burst of tiny frames is read no faster than it is handled, and other sockets get their turns.
      allowSynchronousEvents: false,
      // Connection answers pings itself, within its rate limit and only while the client reads.
      autoPong: false,
      // Draining for a shutdown, the gateway still answers /ready (503) but takes no new socket: the
      // upgrade is refused with a 503, which a load balancer may pass on to another instance.
      verifyClient: (
        _info: unknown,
        accept: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
      ) => {
        const { message, retryAfterSeconds } = ERROR_CODES.NOT_READY;
        if (!this.app.get(RequestRegistry).accepting) accept(false, 503, message, { 'Retry-After': String(retryAfterSeconds) });
        else accept(true);
      },
    });
  }

  /**
   * A message waits its turn (InboundScheduler) as it is, unparsed: in order
   * for its connection, and never so long behind another connection's
   * backlog that sockets go unread; a socket delivers many messages in one
   * read, so even parsing them there would stall everyone. Past
   * WS_MAX_QUEUED_BYTES waiting, the socket is not read (TCP pushes back on
   * the client) until the backlog is half gone. Each message is charged to
   * its connection's rate limit as of its arrival: waiting to be handled
   * must not make a client look faster than it is. A plain listener and a
   * queue keep an idle connection small, where the stock per-client RxJS
   * pipeline costs a few kilobytes.
   */
  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    const connections = this.app.get(ConnectionRegistry);
    const { maxQueuedBytes } = this.config.ws;
    client.on('message', (data: RawData, isBinary: boolean) => {
      // A socket the gateway refused, let go, or is closing: nobody to answer.
      if (connections.of(client)?.closing !== false) return;
      const receivedAt = performance.now();
      const size = byteLength(data) + MESSAGE_OVERHEAD_BYTES;
      this.scheduler.enqueue(
        client,
        async () => {
          if (client.isPaused && this.scheduler.waiting(client) < maxQueuedBytes / 2) client.resume();
          // Refused meanwhile (one message before registration was not a REGISTER, say): the rest goes unread.
          const connection = connections.of(client);
          if (!connection || connection.closing) return;
          const { event, data: message } = parseEnvelope(
            isBinary ? asBuffer(data) : asBuffer(data).toString(),
            this.config.json,
            receivedAt,
          );
          if (!connection.admit(bucketOf(connection, event, message), receivedAt)) return;
          const handler = handlers.find((h) => h.message === event);
          if (handler) await this.dispatch(client, handler, message, transform);
        },
        size,
      );
      if (this.scheduler.waiting(client) > maxQueuedBytes) client.pause();
    });
    client.once('close', () => this.scheduler.forget(client));
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

/** INTERRUPTs and microphone audio are limited apart from everything else: neither may starve the other. */
function bucketOf(connection: Connection, event: string, message: ParsedFrame['data']): TokenBucket {
  if (event === 'INTERRUPT') return connection.interruptRate;
  if (event === 'AUDIO') return connection.audioRate;
  if (event === 'REQUEST' && 'envelope' in message && message.envelope.payload.data_type === 'AUDIO') return connection.audioRate;
  return connection.rate;
}

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
