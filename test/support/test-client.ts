import WebSocket from 'ws';
import {
  type ClientMsgType,
  type ClientPayloads,
  PROTOCOL_VERSION,
  type EndPayload,
  type RegisterAckPayload,
  type ResponsePayload,
  type ServerEnvelope,
  type ServerMsgType,
  type AudioPayload,
  isAudioPayload,
  isEndPayload,
  isTextDeltaPayload,
  type TextDeltaPayload,
} from '@agent-gateway/protocol';
import { own } from './test-resources.js';

export interface Received {
  frame: ServerEnvelope;
  at: number;
}

/** A real `ws` client that records every frame, typed by the shared protocol types. */
export class TestClient {
  readonly received: Received[] = [];
  /** Binary frames (audio, for clients that asked for binary transport), in arrival order. */
  readonly binary: Buffer[] = [];
  sessionId?: string;
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binary.push(data as Buffer);
        return;
      }
      this.received.push({ frame: JSON.parse((data as Buffer).toString()) as ServerEnvelope, at: performance.now() });
      for (const listener of this.listeners) listener();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const listener of this.listeners) listener();
      }),
    );
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    // Listening from the start: a gateway that refuses the socket writes its ERROR right behind the handshake.
    const client = new TestClient(new WebSocket(url, options));
    const release = own(() => client.socket.terminate());
    client.socket.once('close', release);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    return client;
  }

  /** Connects and registers; resolves with the REGISTER_ACK payload. */
  static async registered(url: string, payload: Partial<ClientPayloads['REGISTER']> = {}): Promise<TestClient> {
    const client = await TestClient.connect(url);
    await client.register(payload);
    return client;
  }

  send<T extends ClientMsgType>(type: T, payload: ClientPayloads[T], extra: { session_id?: string; version?: string } = {}): void {
    this.socket.send(
      JSON.stringify({
        version: extra.version ?? PROTOCOL_VERSION,
        msg_type: type,
        session_id: extra.session_id ?? this.sessionId,
        payload,
        timestamp: Date.now(),
      }),
    );
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  async register(payload: Partial<ClientPayloads['REGISTER']> = {}): Promise<RegisterAckPayload> {
    this.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'test-key' }, platform: 'jest', ...payload });
    const ack = await this.waitFor('REGISTER_ACK');
    this.sessionId = ack.payload.session_id;
    return ack.payload;
  }

  request(requestId: string, text = 'Tell me a very long story'): void {
    this.send('REQUEST', {
      request_id: requestId,
      data_type: 'TEXT',
      stream_flag: 'START',
      stream_seq: 0,
      content: { text },
    });
  }

  interrupt(requestId?: string, reason = 'USER_NEW_INPUT'): void {
    this.send('INTERRUPT', { ...(requestId !== undefined && { interrupt_request_id: requestId }), reason });
  }

  /** Resolves with the first frame (from `from` on) matching, or rejects after `timeoutMs`. */
  async waitFor<T extends ServerMsgType>(
    type: T,
    predicate: (frame: ServerEnvelope<T>) => boolean = () => true,
    { timeoutMs = 5000, from = 0 } = {},
  ): Promise<ServerEnvelope<T>> {
    const find = (): ServerEnvelope<T> | undefined =>
      this.received
        .slice(from)
        .map((r) => r.frame as ServerEnvelope<T>)
        .find((f) => f.msg_type === type && predicate(f));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`no ${type} within ${timeoutMs} ms; got ${this.received.map((r) => r.frame.msg_type).join(',')}`));
      }, timeoutMs);
      const check = () => {
        const frame = find();
        if (!frame) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(frame);
      };
      this.listeners.push(check);
    });
  }

  /** The end frame of a request. */
  async endOf(requestId: string, timeoutMs = 5000): Promise<EndPayload> {
    const frame = await this.waitFor('RESPONSE', (f) => f.payload.request_id === requestId && isEndPayload(f.payload), { timeoutMs });
    return frame.payload as EndPayload;
  }

  /** Waits until `count` text frames of a request have arrived. */
  async textFrames(requestId: string, count: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor('RESPONSE', () => this.textsOf(requestId).length >= count, { timeoutMs });
  }

  /** The text (not the reasoning) of a request's frames so far, joined. */
  textOf(requestId: string): string {
    return this.textsOf(requestId)
      .map(({ content }) => ('text' in content ? content.text : ''))
      .join('');
  }

  textsOf(requestId: string): TextDeltaPayload[] {
    return this.responsesOf(requestId).filter(isTextDeltaPayload);
  }

  audioOf(requestId: string): AudioPayload[] {
    return this.responsesOf(requestId).filter(isAudioPayload);
  }

  responsesOf(requestId: string): ResponsePayload[] {
    return this.frames('RESPONSE')
      .map((f) => f.payload)
      .filter((p) => p.request_id === requestId);
  }

  frames<T extends ServerMsgType>(type: T): ServerEnvelope<T>[] {
    return this.received.map((r) => r.frame as ServerEnvelope<T>).filter((f) => f.msg_type === type);
  }

  /** Index in `received` of the first frame matching, or -1. */
  indexOf(predicate: (frame: ServerEnvelope) => boolean): number {
    return this.received.findIndex((r) => predicate(r.frame));
  }

  close(): void {
    this.socket.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
