import type { FakeSpeechServer, SpeechCall } from '../../test/support/fake-speech-server.js';
import { type FakeUpstream, lastUserText } from '../../test/support/fake-upstream.js';
import { BenchClient } from '../bench-client.js';
import { sleep, type Summary, summarize, within } from '../stats.js';
import type { Target } from '../targets.js';

export interface SpeechOptions {
  /** Sessions speaking at once. */
  sessions: number;
  /** Interrupts measured while they speak. */
  trials: number;
  /** Interrupts of a client that stopped reading. */
  slowTrials: number;
}

export interface SpeechFigures {
  firstAudio: Summary;
  ack: Summary;
  lastAudio: Summary;
  providerClosed: Summary;
  bytesPerSpeakingSession: number;
  slowClientAck: Summary;
}

/** 24 kHz 16-bit mono, as the fake speech server streams it: 48 bytes a millisecond. */
const BYTES_PER_MS = 48;
const QUEUED_AUDIO_MS = 5_000;

/** Every sentence names its request, so that the speech calls of a request can be told apart. */
export function sentencesFor(body: Record<string, unknown>): string[] {
  const id = /\(([^)]+)\)/.exec(lastUserText(body))?.[1] ?? 'x';
  return `Story ${id} begins here. The keeper of ${id} climbed the stairs. She lit the lamp for ${id}. `
    .split(' ')
    .filter(Boolean)
    .map((word) => `${word} `);
}

const speaks = (call: SpeechCall, requestId: string) => String(call.body.input).split(/\W+/).includes(requestId);
/** The speech calls of a request still streaming. */
export const openCallsOf = (speech: FakeSpeechServer, requestId: string): SpeechCall[] =>
  speech.calls.filter((call) => speaks(call, requestId) && call.socketClosedAt === undefined && !call.completed);

/** Speaks on a few sessions first, so that code compiled on first use is not counted as per-session memory. */
async function warmUp(target: Target): Promise<void> {
  const clients = await Promise.all(Array.from({ length: 10 }, () => BenchClient.open(target.wsUrl, { require_tts: true })));
  await Promise.all(
    clients.map((client, i) => {
      const audio = client.audioFrame(`warm${i}`, 3);
      client.request(`warm${i}`);
      return within(audio, 30_000, `warm-up audio ${i}`);
    }),
  );
  for (const client of clients) client.close();
  await sleep(500);
}

const progress = (target: Target, step: string) => process.stderr.write(`  ${target.name}: ${step}\n`);

export async function measureSpeech(
  target: Target,
  upstream: FakeUpstream,
  speech: FakeSpeechServer,
  options: SpeechOptions,
): Promise<SpeechFigures> {
  upstream.behavior = { kind: 'stream', words: sentencesFor, intervalMs: 20 };
  // Five times faster than real time, as good providers stream.
  speech.behavior = { kind: 'speak', bytesPerChar: 480, chunkBytes: 4800, intervalMs: 20 };

  progress(target, `${options.sessions} sessions start speaking`);
  await warmUp(target);
  const before = await target.liveMemory();
  const clients = await Promise.all(Array.from({ length: options.sessions }, () => BenchClient.open(target.wsUrl, { require_tts: true })));
  const current = clients.map((_, s) => `sp${s}r0`);
  const firstAudio = await Promise.all(
    clients.map(async (client, s) => {
      const text = client.textFrame(current[s], 0);
      const audio = client.audioFrame(current[s], 0);
      client.request(current[s]);
      const [textAt, audioAt] = await within(Promise.all([text, audio]), 30_000, `first audio of ${current[s]}`);
      return audioAt - textAt;
    }),
  );
  const bytesPerSpeakingSession = ((await target.liveMemory()) - before) / options.sessions;

  progress(target, `${options.trials} interrupts while ${options.sessions} sessions speak`);
  const ack: number[] = [];
  const lastAudio: number[] = [];
  const providerClosed: number[] = [];
  for (let t = 0; t < options.trials; t++) {
    const s = t % clients.length;
    const client = clients[s];
    const id = current[s];
    const calls = openCallsOf(speech, id);
    const interrupt = client.interrupt(id);
    const ackAt = await within(interrupt.ack, 10_000, `ACK of ${id}`);
    await sleep(50);
    ack.push(ackAt - interrupt.sentAt);
    // A call whose audio had all been sent ends normally (its keep-alive socket stays open): only cut ones count.
    const cut = calls.filter((call) => !call.completed);
    const closedAt = await within(Promise.all(cut.map((call) => call.socketClosed)), 10_000, `speech of ${id} closed`);
    if (closedAt.length > 0) providerClosed.push(Math.max(...closedAt) - interrupt.sentAt);
    lastAudio.push(Math.max(0, (client.lastAudioAt.get(id) ?? 0) - interrupt.sentAt));
    current[s] = `sp${s}r${t + 1}`;
    client.request(current[s]);
  }
  for (const client of clients) client.close();
  await sleep(300);

  progress(target, `${options.slowTrials} interrupts of a client with ${QUEUED_AUDIO_MS / 1000} s of audio queued`);
  const slowClientAck: number[] = [];
  // A second of audio per character, as fast as it can be written: it piles up in front of a client that does not read.
  speech.behavior = { kind: 'speak', bytesPerChar: 48_000, chunkBytes: 48_000, intervalMs: 0 };
  for (let t = 0; t < options.slowTrials; t++) {
    const client = await BenchClient.open(target.wsUrl, { require_tts: true });
    const id = `slow${t}`;
    const audio = client.audioFrame(id, 0);
    client.request(id);
    await within(audio, 10_000, `first audio of ${id}`);
    client.socket.pause();
    const deadline = performance.now() + 2_000;
    const written = () => speech.calls.filter((c) => speaks(c, id)).reduce((n, c) => n + c.bytesWritten, 0);
    while (written() < QUEUED_AUDIO_MS * BYTES_PER_MS && performance.now() < deadline) await sleep(20);
    const interrupt = client.interrupt(id);
    client.socket.resume();
    slowClientAck.push((await within(interrupt.ack, 10_000, `ACK of ${id}`)) - interrupt.sentAt);
    client.close();
  }

  return {
    firstAudio: summarize(firstAudio),
    ack: summarize(ack),
    lastAudio: summarize(lastAudio),
    providerClosed: summarize(providerClosed),
    bytesPerSpeakingSession,
    slowClientAck: summarize(slowClientAck),
  };
}
