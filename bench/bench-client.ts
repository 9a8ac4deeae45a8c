import WebSocket from 'ws';

interface Frame {
  msg_type: string;
  payload: { request_id?: string; text_stream_seq?: number; voice_stream_seq?: number; [key: string]: unknown };
}

type Waiter = { test: (frame: Frame) => boolean; resolve: (at: number) => void };

/**
 * A lean protocol client for load: it keeps counters and waiters, not every
 * frame, so that the driver costs the same whichever gateway it measures.
 */
export class BenchClient {
  frames = 0;
  textFrames = 0;
  audioFrames = 0;
  /** Arrival of the latest audio frame, by request. */
  readonly lastAudioAt = new Map<string, number>();
  /** From REGISTER_ACK. */
  sessionId?: string;
  /** The longest time between two frames since resetGap(). */
  longestGapMs = 0;
  private lastFrameAt?: number;
  private waiters: Waiter[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const at = performance.now();
      this.frames += 1;
      if (this.lastFrameAt !== undefined) this.longestGapMs = Math.max(this.longestGapMs, at - this.lastFrameAt);
      this.lastFrameAt = at;
      if (isBinary) {
        this.audioFrames += 1;
        return;
      }
      const frame = JSON.parse((data as Buffer).toString()) as Frame;
      if (frame.msg_type === 'REGISTER_ACK') this.sessionId = frame.payload.session_id as string;
      if (frame.msg_type === 'RESPONSE') {
        if ((frame.payload.text_stream_seq ?? -1) >= 0) this.textFrames += 1;
        if ((frame.payload.voice_stream_seq ?? -1) >= 0) {
          this.audioFrames += 1;
          this.lastAudioAt.set(frame.payload.request_id!, at);
        }
      }
      if (this.waiters.length === 0) return;
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(at);
        return false;
      });
    });
  }

  static async open(url: string, register: Record<string, unknown> = {}): Promise<BenchClient> {
    const client = await BenchClient.connect(url);
    const ack = client.next((f) => f.msg_type === 'REGISTER_ACK');
    client.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'bench' }, platform: 'bench', ...register });
    await ack;
    return client;
  }

  /** A session from another socket, on this one (RESUME from `last_seq` 0: every logged frame again). */
  static async resume(url: string, sessionId: string): Promise<BenchClient> {
    const client = await BenchClient.connect(url);
    const ack = client.next((f) => f.msg_type === 'RESUME_ACK');
    client.send('RESUME', { session_id: sessionId, last_seq: 0, auth: { auth_type: 'API_KEY', api_key: 'bench' } });
    await ack;
    client.sessionId = sessionId;
    return client;
  }

  private static async connect(url: string): Promise<BenchClient> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new BenchClient(socket);
  }

  resetGap(): void {
    this.longestGapMs = 0;
    this.lastFrameAt = undefined;
  }

  send(msgType: string, payload: unknown): void {
    this.socket.send(JSON.stringify({ version: '1.0', msg_type: msgType, payload, timestamp: Date.now() }));
  }

  /** Resolves with the arrival time of the next frame passing `test`. */
  next(test: (frame: Frame) => boolean): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  request(requestId: string, extra: Record<string, unknown> = {}): void {
    this.send('REQUEST', {
      request_id: requestId,
      data_type: 'TEXT',
      stream_flag: 'START',
      stream_seq: 0,
      content: { text: `Tell me a long story (${requestId})` },
      ...extra,
    });
  }

  /** The arrival time of the n-th audio frame of a request (n from 0). */
  audioFrame(requestId: string, n: number): Promise<number> {
    return this.next((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === requestId && f.payload.voice_stream_seq === n);
  }

  /** The arrival time of the n-th text frame of a request (n from 0). */
  textFrame(requestId: string, n: number): Promise<number> {
    return this.next((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === requestId && f.payload.text_stream_seq === n);
  }

  endOf(requestId: string): Promise<number> {
    return this.next((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === requestId && f.payload.text_stream_seq === -1);
  }

  /**
   * Sends INTERRUPT; resolves with its send time and a promise of the ACK's
   * arrival. With `mustStop`, only an ACK that lists the request counts (a
   * NOT_FOUND leaves the promise pending, for the caller's timeout to report).
   */
  interrupt(requestId: string, mustStop = false): { sentAt: number; ack: Promise<number> } {
    const ack = this.next(
      (f) =>
        f.msg_type === 'INTERRUPT_ACK' &&
        (!mustStop || (f.payload.interrupted_request_ids as string[] | undefined)?.includes(requestId) === true),
    );
    const sentAt = performance.now();
    this.send('INTERRUPT', { interrupt_request_id: requestId, reason: 'BENCH' });
    return { sentAt, ack };
  }

  close(): void {
    this.socket.terminate();
  }
}
