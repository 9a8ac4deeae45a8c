import { AudioPlayer, type AudioChunk, type PlaybackReport } from '../src/index.js';
import { type FakeAudioBuffer, FakeAudioContext } from './support/fake-web-audio.js';

/** 100 ms of 24 kHz mono PCM. */
const chunk = (voiceStreamSeq: number): AudioChunk => ({
  voiceStreamSeq,
  audio: new Uint8Array(4800),
  format: { codec: 'pcm_s16le', sample_rate: 24_000, channels: 1 },
  durationMs: 100,
});

/**
 * The player on a fake AudioContext whose clock the test moves: what was
 * heard of each frame is known to the sample, so a pause and its resume can
 * be checked for a frame heard twice or a stretch skipped. (In Chromium, with
 * a real context: test/browser/audio-player.e2e-spec.ts.)
 */
describe('AudioPlayer pausing and resuming', () => {
  let context: FakeAudioContext;
  let player: AudioPlayer;
  let reports: PlaybackReport[];

  beforeEach(async () => {
    context = new FakeAudioContext();
    player = new AudioPlayer({ context: context as unknown as AudioContext, leadMs: 0 });
    reports = [];
    player.played$.subscribe((report) => reports.push(report));
    await player.unlock();
  });

  /** Each frame heard exactly once, start to end, with nothing skipped and nothing twice. */
  const expectHeardWholeOnce = (buffer: FakeAudioBuffer) => {
    const stretches = context.heardOf(buffer);
    expect(stretches[0].from).toBeCloseTo(0, 9);
    for (let i = 1; i < stretches.length; i++) expect(stretches[i].from).toBeCloseTo(stretches[i - 1].to, 9);
    expect(stretches.at(-1)!.to).toBeCloseTo(buffer.duration, 9);
  };
  const seqs = (requestId: string) => reports.filter((r) => r.request_id === requestId).map((r) => r.voice_stream_seq);

  it('pauses at once, mid-frame, says where, and stays there while paused', () => {
    for (let seq = 0; seq < 3; seq++) player.play('r1', chunk(seq));
    context.advance(0.13);
    expect(player.pause('r1')).toEqual({ voice_stream_seq: 1, played_ms: 30 });
    // Silent now: every source of the request stopped, and the clock running on changes nothing.
    expect(context.sources.every((s) => s.endsAt <= context.currentTime + 1e-9)).toBe(true);
    context.advance(1);
    expect(player.positionOf('r1')).toEqual({ voice_stream_seq: 1, played_ms: 30 });
    expect(seqs('r1')).toEqual([1]);
  });

  it('resumes from the very sample where it paused: each frame heard once, whole, and the reports in order', () => {
    for (let seq = 0; seq < 3; seq++) player.play('r1', chunk(seq));
    context.advance(0.1375);
    player.pause('r1');
    context.advance(0.8);
    player.resume('r1');
    expect(player.positionOf('r1')).toEqual({ voice_stream_seq: 1, played_ms: 38 });
    context.advance(0.5);
    for (const buffer of context.buffers) expectHeardWholeOnce(buffer);
    // Frame 1 in two stretches, cut at 37.5 ms.
    expect(context.heardOf(context.buffers[1]).map((s) => Number(s.to.toFixed(4)))).toEqual([0.0375, 0.1]);
    expect(seqs('r1')).toEqual([1, 2, 3]);
    expect(player.positionOf('r1')).toEqual({ voice_stream_seq: 3, played_ms: 0 });
  });

  it('keeps what arrives while paused for after the resume, in order, and plays a frame sent again only once', () => {
    player.play('r1', chunk(0));
    player.play('r1', chunk(1));
    context.advance(0.05);
    player.pause('r1');
    player.play('r1', chunk(2));
    player.play('r1', chunk(3));
    context.advance(0.5);
    // Nothing of the frames that came meanwhile was played.
    expect(context.heardOf(context.buffers[2])).toEqual([]);
    player.resume('r1');
    // The gateway sends again from the first frame it had not sent: one the client already has is dropped.
    player.play('r1', chunk(3));
    player.play('r1', chunk(4));
    context.advance(1);
    expect(context.buffers).toHaveLength(5);
    for (const buffer of context.buffers) expectHeardWholeOnce(buffer);
    const starts = context.buffers.map(
      (b) => context.sources.filter((s) => s.buffer === b && s.heard(context.currentTime)).at(-1)!.startedAt!,
    );
    // Back to back, in order.
    for (let i = 2; i < starts.length; i++) expect(starts[i]).toBeCloseTo(starts[i - 1] + 0.1, 9);
    expect(seqs('r1')).toEqual([1, 2, 3, 4, 5]);
  });

  it('pauses between frames: the position is where the last one ended, and what comes next waits', () => {
    player.play('r1', chunk(0));
    context.advance(0.2);
    expect(player.pause('r1')).toEqual({ voice_stream_seq: 1, played_ms: 0 });
    player.play('r1', chunk(1));
    context.advance(0.2);
    expect(context.heardOf(context.buffers[1])).toEqual([]);
    player.resume('r1');
    context.advance(0.2);
    expectHeardWholeOnce(context.buffers[1]);
  });

  it('pauses a request that has no audio yet: its frames wait from the first', () => {
    expect(player.pause('r1')).toBeUndefined();
    player.play('r1', chunk(0));
    context.advance(0.3);
    expect(context.heardOf(context.buffers[0])).toEqual([]);
    player.resume('r1');
    context.advance(0.2);
    expectHeardWholeOnce(context.buffers[0]);
  });

  it('stops a paused request for good (a real interruption): nothing of it plays again', () => {
    for (let seq = 0; seq < 3; seq++) player.play('r1', chunk(seq));
    context.advance(0.15);
    player.pause('r1');
    expect(player.stop('r1')).toEqual({ voice_stream_seq: 1, played_ms: 50 });
    player.resume('r1');
    player.play('r1', chunk(3));
    context.advance(1);
    expect(context.heardOf(context.buffers[1]).map((s) => Number(s.to.toFixed(4)))).toEqual([0.05]);
    expect(context.heardOf(context.buffers[2])).toEqual([]);
    expect(player.positionOf('r1')).toBeUndefined();
  });

  it('moves up what another request queued behind the paused one', () => {
    player.play('r1', chunk(0));
    player.play('r1', chunk(1));
    player.play('r2', chunk(0));
    context.advance(0.05);
    player.pause('r1');
    context.advance(0.08);
    // r2 plays at once, not after where r1's second frame would have been.
    expect(player.positionOf('r2')).toEqual({ voice_stream_seq: 0, played_ms: 80 });
    player.resume('r1');
    context.advance(0.2);
    for (const buffer of context.buffers) expectHeardWholeOnce(buffer);
    expect(seqs('r2')).toEqual([1]);
  });

  it('does nothing before it is unlocked: nothing played, nothing to pause', () => {
    const locked = new AudioPlayer({ context: new FakeAudioContext() as unknown as AudioContext });
    locked.play('r1', chunk(0));
    expect(locked.pause('r1')).toBeUndefined();
    locked.resume('r1');
    expect(locked.positionOf('r1')).toBeUndefined();
  });

  it('pausing twice keeps the first position, and resuming what is not paused changes nothing', () => {
    player.play('r1', chunk(0));
    context.advance(0.04);
    expect(player.pause('r1')).toEqual({ voice_stream_seq: 0, played_ms: 40 });
    context.advance(0.04);
    expect(player.pause('r1')).toEqual({ voice_stream_seq: 0, played_ms: 40 });
    player.resume('r2');
    player.resume('r1');
    player.resume('r1');
    context.advance(0.2);
    expectHeardWholeOnce(context.buffers[0]);
    expect(context.sources.filter((s) => s.heard(context.currentTime))).toHaveLength(2);
  });
});
