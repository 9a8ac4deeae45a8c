import { filter, firstValueFrom, map, type Observable, takeUntil, throwError, throwIfEmpty, timeout } from 'rxjs';
import type { RegisterAckPayload, ServerEnvelope } from '@agent-gateway/protocol';
import { DEFAULT_INPUT_SAMPLE_RATE, type LinkOptions } from './link-options.js';
import { AckTimeoutError, ConnectionError, GatewayError } from '../errors.js';
import type { SocketConnection } from './socket-connection.js';

type HandshakeAck = 'REGISTER_ACK' | 'RESUME_ACK';

/** A session to resume, and the last of its frames the client has. */
export interface Resumable {
  session: RegisterAckPayload;
  lastSeq: number;
}

/**
 * The first exchange on a new socket: RESUME of the client's session, or
 * REGISTER of a new one. Whoever routes the socket's messages must be
 * subscribed before run() sends anything: the ACK, and a replay behind it,
 * may come in one read.
 */
export class Handshake {
  constructor(
    private readonly options: LinkOptions,
    private readonly timeoutMs: number,
    private readonly closing$: Observable<void>,
  ) {}

  /**
   * Resolves with the session the socket speaks for. When the gateway no
   * longer knows the one to resume, `lost` is told before a new one is
   * registered.
   */
  async run(socket: SocketConnection, resume: Resumable | undefined, lost: (sessionId: string) => void): Promise<RegisterAckPayload> {
    const auth = { auth_type: 'API_KEY', api_key: this.options.apiKey ?? '' };
    if (resume) {
      const resumed = this.answer(socket, 'RESUME_ACK');
      socket.send('RESUME', { session_id: resume.session.session_id, last_seq: resume.lastSeq, auth });
      const answer = await resumed;
      if (answer.msg_type !== 'ERROR') return resume.session;
      // Gone, or not the session this client saw (it is behind the client's last_seq): a new one.
      const { code } = answer.payload;
      if (code !== 'SESSION_NOT_FOUND' && code !== 'LAST_SEQ_AHEAD') throw new GatewayError(answer.payload);
      lost(resume.session.session_id);
    }
    const registered = this.answer(socket, 'REGISTER_ACK');
    socket.send('REGISTER', {
      auth,
      platform: this.options.platform ?? 'sdk',
      require_tts: this.options.speak ?? false,
      audio_transport: this.options.audioTransport ?? 'binary',
      durable: this.options.durable ?? false,
      ...(this.options.audioInput && { audio_input: audioInput(this.options.audioInput) }),
      function_calling: Object.entries(this.options.functions ?? {}).map(([name, fn]) => ({
        type: 'function' as const,
        function: { name, description: fn.description, parameters: fn.parameters },
      })),
    });
    const answer = await registered;
    if (answer.msg_type === 'ERROR') throw new GatewayError(answer.payload);
    return answer.payload;
  }

  /** The ACK, or the ERROR that answered instead. */
  private answer<T extends HandshakeAck>(socket: SocketConnection, ack: T): Promise<Extract<ServerEnvelope, { msg_type: T | 'ERROR' }>> {
    const answers = (envelope: ServerEnvelope): envelope is Extract<ServerEnvelope, { msg_type: T | 'ERROR' }> =>
      envelope.msg_type === ack || (envelope.msg_type === 'ERROR' && envelope.payload.request_id === undefined);
    return firstValueFrom(
      socket.messages$.pipe(
        filter((message) => message.kind === 'envelope'),
        map(({ envelope }) => envelope),
        filter(answers),
        timeout({ first: this.timeoutMs, with: () => throwError(() => new AckTimeoutError(ack, this.timeoutMs)) }),
        takeUntil(this.closing$),
        // messages$ completes when the socket closes.
        throwIfEmpty(() => new ConnectionError(`The connection closed before ${ack}`)),
      ),
    );
  }
}

function audioInput({ sampleRate, turnDetection, language }: NonNullable<LinkOptions['audioInput']>) {
  return {
    audio_format: { codec: 'pcm_s16le' as const, sample_rate: sampleRate ?? DEFAULT_INPUT_SAMPLE_RATE, channels: 1 as const },
    turn_detection: turnDetection ?? 'server_vad',
    ...(language !== undefined && { language }),
  };
}
