import type { WebSocket } from 'ws';
import { ActiveRequest } from '../requests/active-request.js';
import type { FrameContent, OutboundFrame } from './outbound-frame.js';
import { OutboundQueue, type QueueSink } from './outbound-queue.js';

/** Just what the queue uses of a ws socket: a buffer that drains when told to. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  private callbacks: (() => void)[] = [];

  send(data: string, cb?: () => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    if (cb) this.callbacks.push(cb);
  }

  /** The kernel took everything: buffers empty, callbacks fire in order. */
  drain(): void {
    this.bufferedAmount = 0;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const cb of callbacks) cb();
  }
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));
/** A frame whose rendering names it and the number it got. */
const frame = (name: string, request?: ActiveRequest, content?: FrameContent): OutboundFrame => ({
  request,
  content,
  size: name.length,
  render: (seq) => `${name}#${seq}`,
});
const requestNamed = (id: string) => new ActiveRequest(id, { sessionId: 's', userId: 'u', transport: 'ws' });
const sinkOf = (socket: FakeSocket): QueueSink => ({ socket: socket as unknown as WebSocket });

describe('OutboundQueue', () => {
  let socket: FakeSocket;
  let overflowed: QueueSink[][];
  let delivered: string[];
  const queue = (highWaterBytes = 1000, hardLimitBytes = 5000, sockets = [socket]) => {
    let seq = 0;
    const q = new OutboundQueue(
      { highWaterBytes, hardLimitBytes },
      {
        deliver: (f) => {
          const data = f.render(++seq) as string;
          delivered.push(data);
          return data;
        },
        overflowed: (laggards) => overflowed.push(laggards),
      },
    );
    for (const s of sockets) q.addSink(sinkOf(s));
    return q;
  };

  beforeEach(() => {
    socket = new FakeSocket();
    overflowed = [];
    delivered = [];
  });

  it('sends what was pushed in one tick in lane order, numbering frames as they leave', async () => {
    const q = queue();
    q.push(frame('d1', requestNamed('r1')), 'audio');
    q.push(frame('c1'), 'control');
    q.push(frame('t1', requestNamed('r1')), 'text');
    q.push(frame('u1'), 'urgent');
    expect(socket.sent).toEqual([]);
    await tick();
    expect(socket.sent).toEqual(['u1#1', 'c1#2', 't1#3', 'd1#4']);
  });

  it('drops the unsent frames of a request, and only those, before they get a number, and says what they carried', async () => {
    const q = queue();
    const [a, b] = [requestNamed('a'), requestNamed('b')];
    q.push(frame('a1', a, { kind: 'text', seq: 0 }), 'text');
    q.push(frame('b1', b, { kind: 'text', seq: 0 }), 'text');
    q.push(frame('a2', a, { kind: 'audio', seq: 0 }), 'audio');
    q.push(frame('a3', a), 'text');
    expect(q.dropRequest(a)).toEqual({ textSeqs: [0], voiceSeqs: [0] });
    await tick();
    expect(socket.sent).toEqual(['b1#1']);
    expect(q.pendingBytes).toBe(0);
  });

  it('tells apart two requests under one request_id, and never drops an end frame', async () => {
    const q = queue(10);
    q.push(frame('block'.repeat(3)), 'text');
    await tick(); // the socket is now above its high-water mark: the rest waits
    const [old, reused] = [requestNamed('r1'), requestNamed('r1')];
    q.push(frame('old-audio', old, { kind: 'audio', seq: 0 }), 'audio');
    q.push(frame('old-end', old, { kind: 'end' }), 'audio');
    q.push(frame('new-text', reused, { kind: 'text', seq: 0 }), 'text');
    q.push(frame('new-audio', reused, { kind: 'audio', seq: 0 }), 'audio');
    await tick();
    expect([...q.requestsWithQueuedAudio()]).toEqual([old, reused]);
    expect(q.dropRequest(reused)).toEqual({ textSeqs: [0], voiceSeqs: [0] });
    expect(q.dropRequest(old, 'audio')).toEqual({ textSeqs: [], voiceSeqs: [0] });
    expect(q.requestsWithQueuedAudio().size).toBe(0);
    socket.drain();
    expect(socket.sent.map((s) => s.split('#')[0])).toEqual(['blockblockblock', 'old-end']);
  });

  it('drops only the audio of a request when asked to', async () => {
    const q = queue(10);
    q.push(frame('block'.repeat(3)), 'text');
    await tick();
    const ended = requestNamed('r1');
    q.push(frame('text', ended, { kind: 'text', seq: 4 }), 'text');
    q.push(frame('error', ended), 'audio');
    q.push(frame('audio', ended, { kind: 'audio', seq: 9 }), 'audio');
    await tick();
    expect(q.dropRequest(ended, 'audio')).toEqual({ textSeqs: [], voiceSeqs: [9] });
    socket.drain();
    expect(socket.sent.map((s) => s.split('#')[0])).toEqual(['blockblockblock', 'text', 'error']);
  });

  it('holds a request’s audio lane in order while others go on, and sends it on release, none lost or repeated', async () => {
    const q = queue();
    const [spoken, other] = [requestNamed('spoken'), requestNamed('other')];
    q.push(frame('a0', spoken, { kind: 'audio', seq: 0 }), 'audio');
    await tick();
    q.hold(spoken);
    q.push(frame('a1', spoken, { kind: 'audio', seq: 1 }), 'audio');
    q.push(frame('t5', spoken, { kind: 'text', seq: 5 }), 'text');
    q.push(frame('o0', other, { kind: 'audio', seq: 0 }), 'audio');
    q.push(frame('a2', spoken, { kind: 'audio', seq: 2 }), 'audio');
    q.push(frame('end', spoken, { kind: 'end' }), 'audio');
    await tick();
    expect(socket.sent).toEqual(['a0#1', 't5#2', 'o0#3']);
    q.release(spoken);
    q.release(spoken);
    await tick();
    expect(socket.sent).toEqual(['a0#1', 't5#2', 'o0#3', 'a1#4', 'a2#5', 'end#6']);
  });

  it('drops held audio when the held request is interrupted, keeping its end frame', async () => {
    const q = queue();
    const spoken = requestNamed('spoken');
    q.hold(spoken);
    q.push(frame('a0', spoken, { kind: 'audio', seq: 0 }), 'audio');
    q.push(frame('a1', spoken, { kind: 'audio', seq: 1 }), 'audio');
    await tick();
    expect(socket.sent).toEqual([]);
    expect(q.dropRequest(spoken)).toEqual({ textSeqs: [], voiceSeqs: [0, 1] });
    q.push(frame('end', spoken, { kind: 'end' }), 'control');
    await tick();
    expect(socket.sent).toEqual(['end#1']);
    expect(q.pendingBytes).toBe(0);
  });

  it('tells producers to pause while held audio piles up past the high-water mark', async () => {
    const q = queue(10);
    const states: boolean[] = [];
    q.paused$.subscribe((paused) => states.push(paused));
    const spoken = requestNamed('spoken');
    q.hold(spoken);
    q.push(frame('audio-audio', spoken, { kind: 'audio', seq: 0 }), 'audio');
    q.release(spoken);
    await tick();
    socket.drain();
    expect(states).toEqual([false, true, false]);
  });

  it('waits above the high-water mark and resumes when the socket drains', async () => {
    const q = queue(10);
    for (let i = 0; i < 5; i++) q.push(frame(`frame-${i}`), 'audio');
    await tick();
    expect(socket.sent).toEqual(['frame-0#1', 'frame-1#2']);
    q.push(frame('ack'), 'urgent');
    await tick();
    expect(socket.sent).toHaveLength(2);
    socket.drain();
    // The ACK overtakes the audio that was waiting.
    expect(socket.sent.slice(2, 4)).toEqual(['ack#3', 'frame-2#4']);
    socket.drain();
    socket.drain();
    expect(socket.sent.map((s) => s.split('#')[0])).toEqual(['frame-0', 'frame-1', 'ack', 'frame-2', 'frame-3', 'frame-4']);
  });

  it('sends every frame to every socket, waiting for the slowest', async () => {
    const other = new FakeSocket();
    const q = queue(10, 5000, [socket, other]);
    q.push(frame('one'), 'text');
    await tick();
    expect(other.sent).toEqual(['one#1']);
    other.bufferedAmount = 100;
    q.push(frame('two'), 'text');
    await tick();
    expect(socket.sent).toEqual(['one#1']);
    other.drain();
    expect(socket.sent).toEqual(['one#1', 'two#2']);
    expect(other.sent).toEqual(['one#1', 'two#2']);
  });

  it('gives up the sockets that hold it up past the hard limit, and goes on with the rest', async () => {
    const slow = new FakeSocket();
    const q = queue(10, 30, [socket, slow]);
    q.push(frame('first'), 'text');
    await tick();
    socket.drain();
    slow.bufferedAmount = 20; // stopped reading
    q.push(frame('x'.repeat(40)), 'text');
    expect(overflowed).toHaveLength(1);
    expect(overflowed[0].map((sink) => sink.socket)).toEqual([slow]);
    await tick();
    expect(socket.sent.at(-1)).toMatch(/^x+#2$/);
  });

  it('logs frames with no socket at all (a session between two sockets)', async () => {
    const q = queue(10, 5000, []);
    q.push(frame('alone'), 'text');
    await tick();
    expect(delivered).toEqual(['alone#1']);
  });

  it('tells producers to pause while the client is behind, and to go on below half the mark', async () => {
    const q = queue(10);
    const paused: boolean[] = [];
    q.paused$.subscribe((p) => paused.push(p));
    q.push(frame('0123456789ab'), 'audio');
    await tick();
    q.push(frame('more'), 'audio');
    expect(paused).toEqual([false, true]);
    socket.drain();
    socket.drain();
    expect(paused).toEqual([false, true, false]);
  });
});
