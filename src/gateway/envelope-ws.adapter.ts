import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage, Server } from 'node:http';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { AppConfig } from '../config/config.schema.js';
import { ERROR_CODES } from '@agent-gateway/protocol';
import type { Connection } from './connection.js';
import { type ParsedFrame, parseEnvelope } from './envelope-parser.js';
import { AgentGateway } from './agent.gateway.js';
import type { TokenBucket } from './token-bucket.js';
import { InboundScheduler } from './inbound-scheduler.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { ConnectionRegistry } from './connection-registry.service.js';
import { socketListener } from './socket-listener.js';
import { SocketEvents } from './socket-events.service.js';

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
  private readonly scheduler = new InboundScheduler(HANDLING_SLICE_MS);

  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: Pick<AppConfig, 'ws' | 'json'>,
  ) {
    super(app);
  }

  /**
   * On the HTTP server's port (the gateway names no other). The server is
   * the app's own `ws`, not the older copy @nestjs/platform-ws pins, whose
   * receiver keeps the last frame's mask — a view of the whole buffer that
   * frame was read into — for as long as the connection then stays idle.
   */
  override create(port: number, options: Record<string, unknown> = {}): WebSocketServer {
    const server = new WebSocketServer({
      ...options,
      noServer: true,
      maxPayload: this.config.ws.maxPayloadBytes,
      // As ws's own default for a server (and the bench's floor): permessage-deflate keeps zlib contexts
      // of tens of kilobytes per socket, for frames that are small JSON or audio.
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
    this.ensureHttpServerExists(port, this.httpServer as Server);
    this.addWsServerToRegistry(server, port, this.config.ws.path);
    server.on('error', this.onError);
    return server;
  }

  /**
   * Each socket's life goes to SocketEvents and its frames to
   * AgentGateway.onFrame, through listeners every socket shares, rather
   * than through Nest's: Nest binds each of a gateway's message handlers to
   * each socket, and gives each socket a disconnect callback of its own, all
   * kept for the socket's whole life; they were the biggest part of what an
   * idle connection cost.
   */
  override bindClientConnect(server: WebSocketServer): void {
    server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
      // A socket without an error listener would take the process down with it.
      socket.on('error', this.onError);
      socket.on('message', this.onMessage);
      socket.on('close', this.onClose);
      this.app.get(SocketEvents).opened(socket, request);
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
   * must not make a client look faster than it is.
   */
  private readonly onMessage = socketListener((client, data: RawData, isBinary: boolean) => {
    const connections = this.app.get(ConnectionRegistry);
    // A socket the gateway refused, let go, or is closing: nobody to answer.
    if (connections.of(client)?.closing !== false) return;
    const { maxQueuedBytes } = this.config.ws;
    const receivedAt = performance.now();
    const size = byteLength(data) + MESSAGE_OVERHEAD_BYTES;
    this.scheduler.enqueue(
      client,
      async () => {
        if (client.isPaused && this.scheduler.waiting(client) < maxQueuedBytes / 2) client.resume();
        const connection = connections.of(client);
        // Refused meanwhile (one message before registration was not a REGISTER, say): the rest goes unread.
        if (!connection || connection.closing) return;
        const frame = parseEnvelope(isBinary ? asBuffer(data) : asBuffer(data).toString(), this.config.json, receivedAt);
        if (!connection.admit(bucketOf(connection, frame), receivedAt)) return;
        await this.app.get(AgentGateway).onFrame(connection, frame);
      },
      size,
    );
    if (this.scheduler.waiting(client) > maxQueuedBytes) client.pause();
  });

  private readonly onClose = socketListener((socket) => {
    this.app.get(SocketEvents).closed(socket);
    this.scheduler.forget(socket);
  });

  private readonly onError = (error: Error): void => {
    this.logger.error(error);
  };
}

/** INTERRUPTs and microphone audio are limited apart from everything else: neither may starve the other. */
function bucketOf(connection: Connection, frame: ParsedFrame): TokenBucket {
  if (frame.event === 'INTERRUPT') return connection.interruptRate;
  if (frame.event === 'AUDIO') return connection.audioRate;
  if (frame.event === 'REQUEST' && frame.data.envelope.payload.data_type === 'AUDIO') return connection.audioRate;
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
