import {
  type ClientMsgType,
  type ClientPayloads,
  decodeInputAudioFrame,
  type Envelope,
  type InputAudioFrame,
  PROTOCOL_VERSION,
  type RegisterAckPayload,
  type ServerMsgType,
  type ServerPayloads,
  type SocketEvent,
  type WebSocketFactory,
  type WebSocketLike,
} from '../../src/index.js';

/** What the client wrote: an envelope, or a binary frame of input audio. */
export type Written = { kind: 'envelope'; envelope: Envelope<ClientMsgType> } | { kind: 'binary'; frame: InputAudioFrame };

type Listener = (event: SocketEvent) => void;

/** A REGISTER_ACK of a gateway with voice input on, hands-free, 16 kHz. */
export function registerAck(overrides: Partial<RegisterAckPayload> = {}): RegisterAckPayload {
  return {
    session_id: 'sess_voice',
    protocol_version: PROTOCOL_VERSION,
    server_version: 'test',
    auth_mode: 'open',
    llm: { provider: 'simulated', model: 'simulated', simulated: true },
    tts: { enabled: true, audio_transport: 'json' },
    limits: {
      max_payload_bytes: 65_536,
      max_concurrent_requests: 4,
      max_request_text_chars: 8000,
      rate_limit_per_second: 100,
      rate_limit_burst: 100,
      interrupt_rate_limit_per_second: 10,
      interrupt_rate_limit_burst: 10,
    },
    // Long enough that no HEARTBEAT goes out during a test.
    heartbeat: { ping_interval_ms: 600_000, pong_timeout_ms: 600_000 },
    durable: false,
    resume_grace_ms: 30_000,
    audio_input: {
      enabled: true,
      turn_detection: 'server_vad',
      audio_format: { codec: 'pcm_s16le', sample_rate: 16_000, channels: 1 },
    },
    ...overrides,
  };
}

/**
 * A gateway played by the test, behind a fake WebSocket: it answers
 * REGISTER with the REGISTER_ACK it is given, records everything the client
 * writes, and sends what the test tells it to, numbered like the gateway's
 * frames. For what the real gateway cannot do yet, or cannot be made to do
 * on cue (say PLAYBACK_PAUSE at a chosen moment).
 */
export class ScriptedGateway {
  readonly written: Written[] = [];
  private socket?: FakeSocket;
  private seq = 0;

  constructor(private readonly ack: RegisterAckPayload = registerAck()) {}

  readonly webSocket: WebSocketFactory = () => {
    const socket = new FakeSocket((data) => this.received(data));
    this.socket = socket;
    setTimeout(() => socket.emit('open', { type: 'open' }), 0);
    return socket;
  };

  /** Sends a message to the client, numbered (`seq`) unless `numbered` is false. */
  send<T extends ServerMsgType>(type: T, payload: ServerPayloads[T], numbered = true): void {
    if (!this.socket) throw new Error('no client is connected');
    const envelope = { version: PROTOCOL_VERSION, msg_type: type, session_id: this.ack.session_id, payload, timestamp: Date.now() };
    this.socket.emit('message', { type: 'message', data: JSON.stringify(numbered ? { ...envelope, seq: ++this.seq } : envelope) });
  }

  /** The payloads of the envelopes of one type the client wrote, in order. */
  payloads<T extends ClientMsgType>(type: T): ClientPayloads[T][] {
    return this.written.flatMap((w) =>
      w.kind === 'envelope' && w.envelope.msg_type === type ? [w.envelope.payload as ClientPayloads[T]] : [],
    );
  }

  binaryFrames(): InputAudioFrame[] {
    return this.written.flatMap((w) => (w.kind === 'binary' ? [w.frame] : []));
  }

  private received(data: string | Uint8Array): void {
    if (typeof data !== 'string') {
      this.written.push({ kind: 'binary', frame: decodeInputAudioFrame(data) });
      return;
    }
    const envelope = JSON.parse(data) as Envelope<ClientMsgType>;
    this.written.push({ kind: 'envelope', envelope });
    if (envelope.msg_type === 'REGISTER') setTimeout(() => this.send('REGISTER_ACK', this.ack, false), 0);
  }
}

class FakeSocket implements WebSocketLike {
  readyState = 0;
  binaryType = 'blob';
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly onSend: (data: string | Uint8Array) => void) {}

  send(data: string | Uint8Array): void {
    // Copied: the client may reuse its buffer, the record must not change.
    this.onSend(typeof data === 'string' ? data : data.slice());
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', { type: 'close', code, reason });
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  emit(type: 'open' | 'message' | 'close', event: SocketEvent): void {
    if (type === 'open') this.readyState = 1;
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
}
