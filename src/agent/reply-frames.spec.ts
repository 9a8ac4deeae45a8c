import { Session, type Sink } from '../session/session.js';
import { ActiveRequest } from '../requests/active-request.js';
import { SpeechLedger } from '../tts/speech-ledger.js';
import type { SpokenChunk } from '../tts/speech.service.js';
import { ReplyFrames } from './reply-frames.js';

const chunk = (segment: number, firstOfSegment = false): SpokenChunk => ({
  audio: Buffer.alloc(8),
  segment,
  segmentText: segment === 0 ? 'One two three four.' : 'Five six seven eight.',
  firstOfSegment,
  durationMs: 250,
});

describe('ReplyFrames', () => {
  const speaking = () => {
    const ledger = new SpeechLedger();
    const request = new ActiveRequest('r1', { sessionId: 's', userId: 'u', transport: 'ws' });
    const frames = new ReplyFrames(request, {
      ledger,
      format: { codec: 'pcm_s16le', sample_rate: 16000, channels: 1 },
      transport: 'json',
      listens: false,
    });
    for (let i = 0; i < 8; i++) {
      frames.audio(chunk(i < 4 ? 0 : 1, i % 4 === 0));
      if (i % 4 === 3) frames.segmentEnded(i < 4 ? 0 : 1);
    }
    return { frames, ledger };
  };

  it('counts in voice_frames only the audio sent before the first frame dropped', () => {
    const { frames } = speaking();
    frames.retract({ textSeqs: [], voiceSeqs: [7, 5, 6] });
    expect(frames.end({ kind: 'interrupted', cancellation: { reason: 'X', source: 'client', receivedAt: 0 } }).voice_frames).toBe(5);
  });

  it('lowers the count of an end frame already written, which is sent as it leaves the queue', () => {
    const { frames } = speaking();
    const end = frames.end({ kind: 'finished' });
    expect(end.voice_frames).toBe(8);
    frames.retract({ textSeqs: [], voiceSeqs: [2, 3, 4, 5, 6, 7] });
    expect(end.voice_frames).toBe(2);
  });

  it('tells what was heard from what was sent only (the second sentence is known to last 1 s)', () => {
    const { frames, ledger } = speaking();
    frames.retract({ textSeqs: [3], voiceSeqs: [6, 7] });
    // The client says it played everything it was ever going to get, and more.
    ledger.reportPlayed({ voice_stream_seq: 7, played_ms: 250 });
    const end = frames.end({ kind: 'interrupted', cancellation: { reason: 'X', source: 'client', receivedAt: 0 } });
    expect(end).toMatchObject({ voice_frames: 6, heard_text: 'One two three four. Five six' });
  });
});

describe('ReplyFrames with a session whose client reads slowly', () => {
  /** A socket that takes one frame and then holds everything until drained. */
  class SlowSocket {
    readonly OPEN = 1;
    readyState = 1;
    bufferedAmount = 0;
    readonly sent: string[] = [];
    private callbacks: (() => void)[] = [];
    send(data: string, cb?: () => void): void {
      this.sent.push(data);
      this.bufferedAmount += Buffer.byteLength(data);
      if (cb) this.callbacks.push(cb);
    }
    drain(): void {
      this.bufferedAmount = 0;
      for (const cb of this.callbacks.splice(0)) cb();
    }
  }

  it('keeps the end frame of a finished request whose queued audio an interrupt drops, counting only the audio sent', async () => {
    const socket = new SlowSocket();
    const session = new Session(
      'sess_1',
      { userId: 'u', admin: false },
      { platform: 'test', requireTts: true, audioTransport: 'json', clientTools: new Map(), durable: false },
      { outbound: { highWaterBytes: 10, hardLimitBytes: 1 << 30 }, log: { maxFrames: 100, maxBytes: 1 << 20, maxAgeMs: 60_000 } },
      () => undefined,
    );
    session.attach({ socket, attach: () => undefined, sendDirect: () => undefined, fail: () => undefined } as unknown as Sink);
    const request = new ActiveRequest('r1', { sessionId: session.id, userId: 'u', transport: 'ws' });
    const ledger = new SpeechLedger();
    const frames = new ReplyFrames(request, {
      ledger,
      format: { codec: 'pcm_s16le', sample_rate: 16000, channels: 1 },
      transport: 'json',
      listens: false,
    });
    const sendAudio = () => {
      const frame = frames.audio(chunk(0));
      if (frame.kind !== 'json') throw new Error('json transport');
      session.send('RESPONSE', frame.payload, { lane: 'audio', request, content: { kind: 'audio', seq: frame.payload.voice_stream_seq } });
    };
    sendAudio();
    await Promise.resolve(); // frame 0 leaves; the socket is now over its mark
    for (let i = 1; i < 5; i++) sendAudio();
    session.send('RESPONSE', frames.end({ kind: 'finished' }), { lane: 'audio', request, content: { kind: 'end' } });
    await Promise.resolve();
    expect(socket.sent).toHaveLength(1);

    // The request has ended; an INTERRUPT for it drops its audio still queued, not its end frame.
    expect([...session.requestsWithQueuedAudio()]).toEqual([request]);
    frames.retract(session.dropRequest(request, 'audio'));
    socket.drain();
    const payloads = socket.sent.map(
      (data) => (JSON.parse(data) as { payload: { voice_stream_seq: number; voice_frames?: number } }).payload,
    );
    expect(payloads.map((p) => p.voice_stream_seq)).toEqual([0, -1]);
    expect(payloads[1]).toMatchObject({ voice_frames: 1 });
  });
});
