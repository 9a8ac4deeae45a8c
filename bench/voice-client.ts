import WebSocket from 'ws';
import { within } from './stats.js';

/** A frame as the voice suite reads it, with its arrival time. */
export interface VoiceFrame {
  msg_type: string;
  payload: {
    request_id?: string;
    request_ids?: string[];
    interrupted_request_ids?: string[];
    text_stream_seq?: number;
    voice_stream_seq?: number;
    reason?: string;
    final?: boolean;
    text?: string;
    voice_frames?: number;
    interrupted?: boolean;
    upstream_closed_ms?: Record<string, number>;
    [key: string]: unknown;
  };
  at: number;
}

/** What a client received of one request's audio. */
export interface ReplyAudio {
  /** voice_stream_seq of every audio frame, in arrival order. */
  seqs: number[];
  arrivals: number[];
}

type Waiter = { test: (frame: VoiceFrame) => boolean; resolve: (frame: VoiceFrame) => void };

/**
 * A protocol client for the voice suite: it keeps every frame but text and
 * audio deltas (of those, only each request's first, its end frame, and the
 * audio's voice_stream_seq), so that a test can ask for a frame that may
 * already have arrived.
 */
export class VoiceClient {
  readonly frames: VoiceFrame[] = [];
  private readonly audio = new Map<string, ReplyAudio>();
  private waiters: Waiter[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const at = performance.now();
      const frame = JSON.parse((data as Buffer).toString()) as VoiceFrame;
      frame.at = at;
      const { payload } = frame;
      if (frame.msg_type === 'RESPONSE') {
        const voiceSeq = payload.voice_stream_seq ?? -1;
        if (voiceSeq >= 0) {
          const audio = this.audioOf(payload.request_id!);
          audio.seqs.push(voiceSeq);
          audio.arrivals.push(at);
        }
        // Kept: the first text frame, the first audio frame and the end frame.
        const first = payload.text_stream_seq === 0 || voiceSeq === 0 || payload.text_stream_seq === -1;
        if (!first) return;
        delete payload.content;
      }
      this.frames.push(frame);
      if (this.waiters.length === 0) return;
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  static async open(url: string, register: Record<string, unknown>): Promise<VoiceClient> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const client = new VoiceClient(socket);
    const ack = client.waitFor((f) => f.msg_type === 'REGISTER_ACK', 0, 10_000, 'REGISTER_ACK');
    client.send('REGISTER', { auth: { auth_type: 'API_KEY', api_key: 'bench' }, platform: 'bench', ...register });
    const { payload } = await ack;
    const audioInput = payload.audio_input as { enabled?: boolean; reason?: string } | undefined;
    if (register.audio_input && audioInput?.enabled !== true)
      throw new Error(`no voice input: ${audioInput?.reason ?? 'not in REGISTER_ACK'}`);
    return client;
  }

  send(msgType: string, payload: unknown): void {
    this.socket.send(JSON.stringify({ version: '1.0', msg_type: msgType, payload, timestamp: Date.now() }));
  }

  /** 20 ms of microphone, as an AUDIO message. */
  sendAudio(pcm: Buffer): void {
    this.send('AUDIO', { content: { audio: pcm.toString('base64') } });
  }

  request(requestId: string, text: string): void {
    this.send('REQUEST', { request_id: requestId, data_type: 'TEXT', stream_flag: 'START', stream_seq: 0, content: { text } });
  }

  /** Where the frames received from now on start, for waitFor. */
  mark(): number {
    return this.frames.length;
  }

  /** The first frame from index `from` on that passes `test`, received already or when it comes. */
  waitFor(test: (frame: VoiceFrame) => boolean, from: number, ms: number, what: string): Promise<VoiceFrame> {
    const arrived = this.frames.slice(from).find(test);
    if (arrived) return Promise.resolve(arrived);
    const waiting = new Promise<VoiceFrame>((resolve) => this.waiters.push({ test, resolve }));
    // A stuck run says what the session did receive meanwhile.
    return within(waiting, ms, what).catch((error: unknown) => {
      throw new Error(`${String(error)}; received since: ${this.describe(from)}`);
    });
  }

  private describe(from: number): string {
    return this.frames
      .slice(from)
      .map((f) => `${f.at.toFixed(0)} ${f.msg_type} ${JSON.stringify(f.payload).slice(0, 200)}`)
      .join('\n  ');
  }

  firstText(requestId: string, from: number, ms: number): Promise<VoiceFrame> {
    return this.waitFor((f) => isResponse(f, requestId) && f.payload.text_stream_seq === 0, from, ms, `first text of ${requestId}`);
  }

  firstAudio(requestId: string, from: number, ms: number): Promise<VoiceFrame> {
    return this.waitFor((f) => isResponse(f, requestId) && f.payload.voice_stream_seq === 0, from, ms, `first audio of ${requestId}`);
  }

  endOf(requestId: string, from: number, ms: number): Promise<VoiceFrame> {
    return this.waitFor((f) => isResponse(f, requestId) && f.payload.text_stream_seq === -1, from, ms, `end frame of ${requestId}`);
  }

  audioOf(requestId: string): ReplyAudio {
    let audio = this.audio.get(requestId);
    if (!audio) {
      audio = { seqs: [], arrivals: [] };
      this.audio.set(requestId, audio);
    }
    return audio;
  }

  close(): void {
    this.socket.terminate();
  }
}

const isResponse = (frame: VoiceFrame, requestId: string) => frame.msg_type === 'RESPONSE' && frame.payload.request_id === requestId;
