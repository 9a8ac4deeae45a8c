import type { FakeUpstream } from '../../test/support/fake-upstream.js';
import { BenchClient } from '../bench-client.js';
import { within } from '../stats.js';
import type { Target } from '../targets.js';

export interface SoakFigures {
  /** A healthy session's longest gap between two frames while the hostile frames were handled (the median of three rounds). */
  longestGapMs: number;
  /** Its longest gap over as long with no hostile client (the reference: the stream's own pace). */
  quietGapMs: number;
  /** Live memory after a full collection, per 1,000 hostile frames. */
  bytesPer1000Frames: number;
  /** How long the target took over one round of hostile frames (the median). */
  hostileSeconds: number;
}

const FRAME_BYTES = 60 * 1024;

/**
 * The costliest frames one connection can send, each close to the 64 KiB
 * frame limit, that ask the floor for no work it would not do anyway: JSON
 * nested as deep as it fits, a FUNCTION_RESULT of thousands of small objects
 * (a valid one, validated in full and then dropped: the call is not
 * pending), and a HEARTBEAT with thousands of fields.
 */
function worstFrames(): string[] {
  const depth = Math.floor((FRAME_BYTES - 100) / 2);
  // `{"a":1},` is 8 bytes.
  const wide = Array.from({ length: Math.floor((FRAME_BYTES - 100) / 8) }, (_, i) => ({ a: i % 10 }));
  const frames = [
    `{"version":"1.0","msg_type":"FUNCTION_RESULT","payload":{"request_id":"r","call_id":"c","result":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
    JSON.stringify({ version: '1.0', msg_type: 'FUNCTION_RESULT', payload: { request_id: 'r', call_id: 'c', result: wide } }),
    // `"f1234":1,` is 10 to 12 bytes.
    JSON.stringify({
      version: '1.0',
      msg_type: 'HEARTBEAT',
      payload: Object.fromEntries(Array.from({ length: Math.floor((FRAME_BYTES - 100) / 12) }, (_, i) => [`f${i}`, 1])),
    }),
  ];
  if (frames.some((frame) => frame.length > FRAME_BYTES)) throw new Error('a worst frame is over the frame limit');
  return frames;
}

/**
 * A healthy session streams a reply while one hostile connection sends
 * `frames` of the worst frames as fast as its socket takes them, three
 * times: how long the healthy one waits at worst, and what the hostile
 * frames leave behind in memory.
 */
export async function measureSoak(target: Target, upstream: FakeUpstream, options: { frames: number }): Promise<SoakFigures> {
  upstream.clearCalls();
  upstream.behavior = { kind: 'stream', tokens: 100_000_000, intervalMs: 10 };
  const healthy = await BenchClient.open(target.wsUrl);
  healthy.request('story');
  await within(healthy.textFrame('story', 5), 10_000, 'the healthy session streams');
  const hostile = await BenchClient.open(target.wsUrl);
  const worst = worstFrames();
  const flood = async (count: number) => {
    for (let i = 0; i < count; i++) {
      // As fast as the gateway reads, but no faster: a megabyte queued here would stall this process, and
      // with it the healthy client whose gaps are measured.
      if (hostile.socket.bufferedAmount > 256 * 1024) await new Promise((resolve) => hostile.socket.send(worst[i % worst.length], resolve));
      else hostile.socket.send(worst[i % worst.length]);
    }
    // Answered after every frame before it (the hostile HEARTBEATs have answers of their own).
    const answered = hostile.next((f) => f.msg_type === 'INTERRUPT_ACK');
    hostile.send('INTERRUPT', { reason: 'SYNC' });
    await within(answered, 120_000, 'the hostile connection is answered');
  };
  await flood(1000); // warm-up, uncounted: code compiled, caches filled
  healthy.resetGap();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const quietGapMs = healthy.longestGapMs;
  const before = await target.liveMemory();
  // Three rounds, the median kept: on two shared cores one round's worst gap is often the machine's, not the target's.
  const rounds: { gap: number; seconds: number }[] = [];
  for (let round = 0; round < 3; round++) {
    healthy.resetGap();
    const startedAt = performance.now();
    await flood(options.frames);
    rounds.push({ gap: healthy.longestGapMs, seconds: (performance.now() - startedAt) / 1000 });
  }
  const after = await target.liveMemory();
  const median = (pick: (round: { gap: number; seconds: number }) => number) => rounds.map(pick).sort((a, b) => a - b)[1];
  healthy.close();
  hostile.close();
  return {
    longestGapMs: median((round) => round.gap),
    quietGapMs,
    bytesPer1000Frames: ((after - before) / (3 * options.frames)) * 1000,
    hostileSeconds: median((round) => round.seconds),
  };
}
