import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { FakeSpeechServer } from '../../test/support/fake-speech-server.js';
import { FAKE_TRANSCRIPTION_KEY, FakeTranscriptionServer } from '../../test/support/fake-transcription-server.js';
import { type FakeUpstream, messagesOf, type UpstreamCall } from '../../test/support/fake-upstream.js';
import { noise, speak, SPEECH_RATE } from '../../test/support/spoken-audio.js';
import { sleep, type Summary, summarize, within } from '../stats.js';
import type { FvadEngine } from '../../src/vad/fvad.engine.js';
import { BENCH_GATEWAY_ENV, startTarget, type Target } from '../targets.js';
import { type Clip, clipOf, LocalVad, streamClip, VAD_DEFAULTS } from '../voice-audio.js';
import { VoiceClient, type VoiceFrame } from '../voice-client.js';
import { writeTable } from '../report.js';

export interface VoiceOptions {
  /** Utterances over a playing reply, per gateway (and as many text turns). */
  trials: number;
  /** Backchannels and noise bursts over a short reply. */
  resumeTrials: number;
  /** Sessions speaking at once, with the fake recognizer. */
  sessions: number;
  /** Sessions speaking at once, with pocketsphinx (each utterance costs it a second of CPU). */
  pocketsphinxSessions: number;
  /** Sessions at once for the false interruptions. */
  resumeSessions: number;
}

/** What each turn of one gateway measured: the voice turn, and the same turn as text (the floor), in the same sessions. */
interface TurnFigures {
  /** Speech onset → PLAYBACK_PAUSE at the client, and the in-process VAD's onset → start on the same chunks. */
  pause: number[];
  vadStart: number[];
  /** Paired, per utterance: pause − vadStart. */
  pauseAdded: number[];
  /** upstream_closed_ms of INTERRUPT_ACK: USER_SPEECH, and a client INTERRUPT. */
  voiceClosedMs: number[];
  textClosedMs: number[];
  /** The fake upstream's socket closed − the ACK's arrival. */
  voiceAckToSocket: number[];
  textAckToSocket: number[];
  /** End of speech (last voiced chunk sent) → SPEECH_STOPPED, the final TRANSCRIPT, and the in-process VAD's stop event. */
  stopped: number[];
  transcript: number[];
  vadStop: number[];
  /** End of speech → the new request's first text and audio; TEXT REQUEST sent → the same. */
  voiceFirstText: number[];
  voiceFirstAudio: number[];
  textFirstText: number[];
  textFirstAudio: number[];
  /** Utterances the gateway did not take as an interruption (it resumed the reply). */
  notInterrupted: number;
  /** Utterances that interrupted only after the reply had resumed on timeout (the transcript came late). */
  lateInterruptions: number;
}

interface ResumeFigures {
  trials: number;
  /** Trials whose reply's frames were not 0, 1, 2… once each, or whose end frame counted otherwise. */
  broken: number;
  /** Audio frames of the paused reply that arrived between PLAYBACK_PAUSE and PLAYBACK_RESUME. */
  framesWhilePaused: number;
  /** Audio frames that arrived within 50 ms after PLAYBACK_RESUME: the backlog held during the pause. */
  framesReleased: number;
  /** False interruptions the gateway took for real ones (the reply was interrupted). */
  interrupted: number;
  /** By PLAYBACK_RESUME reason: PAUSE → RESUME at the client, the in-process VAD's start → stop on the same chunks, and the paired difference. */
  byReason: Record<string, { pauseToResume: number[]; vadSpeech: number[]; added: number[] }>;
}

export interface VoiceFigures {
  pocketsphinx: TurnFigures;
  fakeRecognizer: TurnFigures;
  resume: ResumeFigures;
  /** Recognizer and espeak-ng processes of ours still running after the suite. */
  leftProcesses: string[];
  /** And of anyone's (`ps -e -o comm=`): other work on the machine may run them too. */
  onTheMachine: number;
}

const PORTS = { pocketsphinx: 18030, fakeRecognizer: 18031 } as const;
/** What the user says over the reply, and the fake recognizer's transcript of it. */
const TURN_TEXT = 'stop, tell me a joke';
const BACKCHANNEL_TEXT = 'uh huh';
/** What the agent says: no word of the user's turn (so that it is never heard as echo of it). */
const AGENT_WORDS = 'The keeper climbed the stairs. She lit the lamp at dusk. Boats came home safely over the grey water. '
  .split(' ')
  .filter(Boolean)
  .map((word) => `${word} `);
/** Content chunks of the short reply the false interruptions fall on: 2 s at 20 ms, longer than the speech over it and its verdict. */
const SHORT_REPLY_TOKENS = 100;
const HANDS_FREE = {
  require_tts: true,
  audio_input: { audio_format: { codec: 'pcm_s16le', sample_rate: SPEECH_RATE, channels: 1 }, turn_detection: 'server_vad' },
};
/** How long a reply plays (after its first audio) before the user speaks over it. */
const PLAY_MS = 100;
const LEAD_MS = 200;
/** Past VAD_SILENCE_MS: the gateway's speech is over before the next clip. */
const TAIL_MS = 700;

let suiteStart = performance.now();
const progress = (step: string) => process.stderr.write(`  voice (${((performance.now() - suiteStart) / 1000).toFixed(0)} s): ${step}\n`);

/**
 * Voice input, on our gateway only (the floors are the work it cannot
 * avoid, measured in the same run): speech over a playing reply, its pause
 * and interruption, the turn it starts, with pocketsphinx and with a
 * recognizer that answers at once; then false interruptions over short
 * replies, with that recognizer hearing the backchannel: pocketsphinx costs
 * a second of CPU per utterance (half of it loading its model), so a few
 * sessions at once fill two cores and its verdicts come late.
 */
export async function measureVoice(
  upstream: FakeUpstream,
  speech: FakeSpeechServer,
  env: Record<string, string>,
  options: VoiceOptions,
): Promise<VoiceFigures> {
  suiteStart = performance.now();
  upstream.behavior = { kind: 'stream', words: AGENT_WORDS, intervalMs: 20 };
  // Five times faster than real time, as in the speech suite.
  speech.behavior = { kind: 'speak', bytesPerChar: 480, chunkBytes: 4800, intervalMs: 20 };
  progress('synthesizing the user’s speech with espeak-ng');
  const clips = {
    turn: clipOf(await speak(TURN_TEXT), LEAD_MS, TAIL_MS),
    backchannel: clipOf(await speak(BACKCHANNEL_TEXT), LEAD_MS, TAIL_MS),
    noise: clipOf(noise(300), LEAD_MS, TAIL_MS),
  };
  const engine = await LocalVad.loadEngine();
  const transcription = new FakeTranscriptionServer();
  const transcriptionUrl = await transcription.start();
  transcription.behavior = { kind: 'answer', text: TURN_TEXT };
  const leftProcesses: string[] = [];
  try {
    const pocketsphinx = await withGateway('pocketsphinx', { ...env, ASR_PROVIDER: 'pocketsphinx' }, leftProcesses, (target) =>
      measureTurns(target, upstream, clips.turn, engine, options.trials, options.pocketsphinxSessions),
    );
    const fakeEnv = { ...env, ASR_PROVIDER: 'openai', ASR_BASE_URL: transcriptionUrl, ASR_API_KEY: FAKE_TRANSCRIPTION_KEY };
    const fake = await withGateway('fakeRecognizer', fakeEnv, leftProcesses, async (target) => {
      const turns = await measureTurns(target, upstream, clips.turn, engine, options.trials, options.sessions);
      upstream.behavior = { kind: 'stream', words: AGENT_WORDS, tokens: SHORT_REPLY_TOKENS, intervalMs: 20 };
      transcription.behavior = { kind: 'answer', text: BACKCHANNEL_TEXT };
      const resume = await measureResumes(target, [clips.backchannel, clips.noise], engine, options);
      return { turns, resume };
    });
    leftProcesses.push(...descendants(process.pid, /^(pocketsphinx|espeak)/));
    progress('done');
    const onTheMachine = runningNamed(/^(pocketsphinx|espeak)/);
    const figures = { pocketsphinx, fakeRecognizer: fake.turns, resume: fake.resume, leftProcesses, onTheMachine };
    // Every sample, for a closer look than p50 and p99.
    if (process.env.BENCH_VOICE_DUMP) writeFileSync(process.env.BENCH_VOICE_DUMP, JSON.stringify(figures, null, 1));
    return figures;
  } finally {
    await transcription.stop();
  }
}

/** Starts a gateway as run.ts does, with this recognizer; stops it, and checks that it left no recognizer running. */
async function withGateway<T>(
  name: keyof typeof PORTS,
  env: Record<string, string>,
  left: string[],
  measure: (target: Target) => Promise<T>,
): Promise<T> {
  progress(`starting the gateway (${env.ASR_PROVIDER})`);
  const target = await startTarget({
    name: `voice-${name}`,
    port: PORTS[name],
    nodeArgs: ['dist/main.js'],
    env: { ...env, ...BENCH_GATEWAY_ENV },
  });
  try {
    return await measure(target);
  } finally {
    // The sessions are closed: their recognizers are killed with them. Give them a moment, then look.
    const recognizers = () => descendants(target.pid, /^pocketsphinx/);
    for (let attempt = 0; recognizers().length > 0 && attempt < 50; attempt++) await sleep(100);
    const remaining = descendants(target.pid, /^(pocketsphinx|cat$|sh$)/);
    left.push(...remaining.map((p) => `${p} (left by the ${name} gateway)`));
    await target.stop();
    for (const entry of remaining) killGroupOf(Number(entry.split(' ')[0]));
  }
}

/**
 * In `sessions` sessions at once, each with a reply playing: a voice turn
 * (the user speaks over it), then the same turn as text (INTERRUPT and
 * REQUEST), alternately, so that both run under the same load. Each
 * session's first voice turn is a warm-up, not counted.
 */
async function measureTurns(
  target: Target,
  upstream: FakeUpstream,
  clip: Clip,
  engine: FvadEngine,
  trials: number,
  sessionCount: number,
): Promise<TurnFigures> {
  progress(`${target.name}: ${trials} utterances over a playing reply, ${sessionCount} sessions at once`);
  upstream.clearCalls();
  const figures: TurnFigures = {
    pause: [],
    vadStart: [],
    pauseAdded: [],
    voiceClosedMs: [],
    textClosedMs: [],
    voiceAckToSocket: [],
    textAckToSocket: [],
    stopped: [],
    transcript: [],
    vadStop: [],
    voiceFirstText: [],
    voiceFirstAudio: [],
    textFirstText: [],
    textFirstAudio: [],
    notInterrupted: 0,
    lateInterruptions: 0,
  };
  const sessions = await Promise.all(
    Array.from({ length: sessionCount }, async (_, s) => ({
      client: await VoiceClient.open(target.wsUrl, HANDS_FREE),
      vad: await LocalVad.create(engine),
      tag: `${target.name}-${s}`,
    })),
  );
  try {
    await Promise.all(
      sessions.map(async (session, s) => {
        // Microphones are not in step: the sessions start a fraction of a clip apart.
        await sleep(((s * clip.samples.length) / SPEECH_RATE / sessionCount) * 1000);
        const { client, tag } = session;
        let current = `${tag}-r0`;
        client.request(current, `Tell me a long story (${tag})`);
        await client.firstAudio(current, 0, 30_000);
        const mine = Math.ceil((trials - s) / sessionCount);
        for (let t = 0; t <= mine; t++) {
          const counted = t > 0 ? figures : undefined;
          await sleep(PLAY_MS);
          current = await voiceTurn(session, upstream, clip, current, counted);
          await sleep(PLAY_MS);
          current = await textTurn(session, upstream, current, `${tag}-t${t}`, counted);
        }
      }),
    );
  } finally {
    for (const { client, vad } of sessions) {
      client.close();
      vad.close();
    }
  }
  return figures;
}

interface BenchSession {
  client: VoiceClient;
  vad: LocalVad;
  tag: string;
}

/** The latest model call of a session: every call's history holds the session's tagged text turns. */
function currentCall(upstream: FakeUpstream, tag: string): UpstreamCall {
  const marker = `(${tag})`;
  const call = upstream.calls.findLast((c) => messagesOf(c.body).some((m) => typeof m.content === 'string' && m.content.includes(marker)));
  if (!call) throw new Error(`no upstream call of ${tag}`);
  return call;
}

/** The user says TURN_TEXT over the playing reply `current`; returns the request it starts. */
async function voiceTurn(
  session: BenchSession,
  upstream: FakeUpstream,
  clip: Clip,
  current: string,
  figures?: TurnFigures,
): Promise<string> {
  const { client, vad, tag } = session;
  const from = client.mark();
  const call = currentCall(upstream, tag);
  const streamed = await streamClip(clip, (pcm) => client.sendAudio(pcm), vad);
  const pause = await client.waitFor(
    (f) => f.msg_type === 'PLAYBACK_PAUSE' && f.payload.request_ids?.includes(current) === true,
    from,
    10_000,
    `PLAYBACK_PAUSE of ${current}`,
  );
  if (figures && streamed.localStartAt !== undefined) {
    figures.pause.push(pause.at - streamed.onsetSentAt);
    figures.vadStart.push(streamed.localStartAt - streamed.localOnsetAt);
    figures.pauseAdded.push(pause.at - streamed.onsetSentAt - (streamed.localStartAt - streamed.localOnsetAt));
  }
  const { speechId, transcript, resumedFirst } = await verdictOn(client, pause, from);
  const next = transcript?.payload.request_id;
  if (next === undefined) {
    if (figures) figures.notInterrupted += 1;
    return current;
  }
  if (figures && resumedFirst) figures.lateInterruptions += 1;
  const ack = await client.waitFor(
    (f) => f.msg_type === 'INTERRUPT_ACK' && f.payload.reason === 'USER_SPEECH',
    from,
    1_000,
    `INTERRUPT_ACK of ${speechId}`,
  );
  const stopped = await client.waitFor(
    (f) => f.msg_type === 'SPEECH_STOPPED' && f.payload.speech_id === speechId,
    from,
    1_000,
    `SPEECH_STOPPED of ${speechId}`,
  );
  const [text, audio] = await Promise.all([client.firstText(next, from, 20_000), client.firstAudio(next, from, 20_000)]);
  const closedAt = await within(call.socketClosed, 5_000, `upstream call of ${current} closed`);
  if (figures) {
    recordInterrupt(figures.voiceClosedMs, figures.voiceAckToSocket, ack, current, closedAt);
    const end = streamed.lastVoicedSentAt;
    figures.stopped.push(stopped.at - end);
    figures.transcript.push(transcript!.at - end);
    if (streamed.localStopAt !== undefined) figures.vadStop.push(streamed.localStopAt - end);
    figures.voiceFirstText.push(text.at - end);
    figures.voiceFirstAudio.push(audio.at - end);
  }
  return next;
}

/**
 * The gateway's last word on the speech that paused a reply: its final
 * TRANSCRIPT (undefined when recognition failed), and whether the reply had
 * resumed before it (on timeout: a late transcript with words of the user's
 * own still interrupts). Waiting for it keeps a late verdict off the next trial.
 */
async function verdictOn(
  client: VoiceClient,
  pause: VoiceFrame,
  from: number,
): Promise<{ speechId: string; transcript?: VoiceFrame; resumedFirst: boolean }> {
  const speechId = String(pause.payload.speech_id);
  const last = await client.waitFor(
    (f) =>
      (f.msg_type === 'TRANSCRIPT' && f.payload.final === true && f.payload.speech_id === speechId) ||
      (f.msg_type === 'ERROR' && f.payload.code === 'ASR_ERROR'),
    from,
    20_000,
    `the final transcript of ${speechId}`,
  );
  const resumedFirst = client.frames
    .slice(from)
    .some((f) => f.msg_type === 'PLAYBACK_RESUME' && f.payload.speech_id === speechId && f.at <= last.at);
  return { speechId, transcript: last.msg_type === 'TRANSCRIPT' ? last : undefined, resumedFirst };
}

/** The same turn as text: INTERRUPT the playing reply `current` and send the turn as a REQUEST `next`, at once. */
async function textTurn(
  session: BenchSession,
  upstream: FakeUpstream,
  current: string,
  next: string,
  figures?: TurnFigures,
): Promise<string> {
  const { client, tag } = session;
  const from = client.mark();
  const call = currentCall(upstream, tag);
  client.send('INTERRUPT', { interrupt_request_id: current, reason: 'BENCH' });
  const sentAt = performance.now();
  client.request(next, `${TURN_TEXT} (${tag})`);
  const ack = await client.waitFor(
    (f) => f.msg_type === 'INTERRUPT_ACK' && f.payload.interrupt_request_id === current,
    from,
    10_000,
    `INTERRUPT_ACK of ${current}`,
  );
  const [text, audio] = await Promise.all([client.firstText(next, from, 20_000), client.firstAudio(next, from, 20_000)]);
  const closedAt = await within(call.socketClosed, 5_000, `upstream call of ${current} closed`);
  if (figures) {
    recordInterrupt(figures.textClosedMs, figures.textAckToSocket, ack, current, closedAt);
    figures.textFirstText.push(text.at - sentAt);
    figures.textFirstAudio.push(audio.at - sentAt);
  }
  return next;
}

function recordInterrupt(closedMs: number[], ackToSocket: number[], ack: VoiceFrame, requestId: string, socketClosedAt: number): void {
  const measured = ack.payload.upstream_closed_ms?.[requestId];
  if (measured === undefined) throw new Error(`INTERRUPT_ACK without upstream_closed_ms for ${requestId}: ${JSON.stringify(ack.payload)}`);
  closedMs.push(measured);
  ackToSocket.push(socketClosedAt - ack.at);
}

/**
 * False interruptions: a backchannel or a noise burst over a short reply,
 * alternately, in `resumeSessions` sessions at once. Each reply must pause,
 * resume, and run to its end with every audio frame once, in order.
 */
async function measureResumes(target: Target, clips: Clip[], engine: FvadEngine, options: VoiceOptions): Promise<ResumeFigures> {
  progress(`${target.name}: ${options.resumeTrials} false interruptions, ${options.resumeSessions} sessions at once`);
  const figures: ResumeFigures = {
    trials: 0,
    broken: 0,
    framesWhilePaused: 0,
    framesReleased: 0,
    interrupted: 0,
    byReason: {},
  };
  const sessions = await Promise.all(
    Array.from({ length: options.resumeSessions }, async (_, s) => ({
      client: await VoiceClient.open(target.wsUrl, HANDS_FREE),
      vad: await LocalVad.create(engine),
      tag: `${target.name}-b${s}`,
    })),
  );
  try {
    await Promise.all(
      sessions.map(async ({ client, vad, tag }, s) => {
        await sleep(s * 97);
        for (let t = s; t < options.resumeTrials; t += options.resumeSessions) {
          const clip = clips[t % clips.length];
          const id = `${tag}-${t}`;
          const from = client.mark();
          client.request(id, `Tell me a short story (${tag})`);
          await client.firstAudio(id, from, 20_000);
          const streamed = await streamClip(clip, (pcm) => client.sendAudio(pcm), vad);
          const pause = await client.waitFor(
            (f) => f.msg_type === 'PLAYBACK_PAUSE' && f.payload.request_ids?.includes(id) === true,
            from,
            10_000,
            `PLAYBACK_PAUSE of ${id}`,
          );
          const verdict = await client.waitFor(
            (f) =>
              (f.msg_type === 'PLAYBACK_RESUME' && f.payload.request_ids?.includes(id) === true) ||
              (f.msg_type === 'INTERRUPT_ACK' && f.payload.interrupted_request_ids?.includes(id) === true),
            from,
            20_000,
            `the verdict on the speech over ${id}`,
          );
          const end = await client.endOf(id, from, 30_000);
          const { transcript } = await verdictOn(client, pause, from);
          const turn = transcript?.payload.request_id;
          if (turn !== undefined) {
            // Taken for the user's turn: it must not play over the next trial.
            client.send('INTERRUPT', { interrupt_request_id: turn, reason: 'BENCH' });
            await client.endOf(turn, from, 10_000);
          }
          figures.trials += 1;
          const { seqs, arrivals } = client.audioOf(id);
          if (seqs.some((seq, i) => seq !== i) || end.payload.voice_frames !== seqs.length) figures.broken += 1;
          if (end.payload.interrupted === true) figures.interrupted += 1;
          if (verdict.msg_type === 'INTERRUPT_ACK') continue;
          figures.framesWhilePaused += arrivals.filter((at) => at > pause.at && at < verdict.at).length;
          figures.framesReleased += arrivals.filter((at) => at >= verdict.at && at < verdict.at + 50).length;
          const reason = String(verdict.payload.reason);
          const byReason = (figures.byReason[reason] ??= { pauseToResume: [], vadSpeech: [], added: [] });
          byReason.pauseToResume.push(verdict.at - pause.at);
          if (streamed.localStartAt !== undefined && streamed.localStopAt !== undefined) {
            const vadSpeech = streamed.localStopAt - streamed.localStartAt;
            byReason.vadSpeech.push(vadSpeech);
            byReason.added.push(verdict.at - pause.at - vadSpeech);
          }
        }
      }),
    );
  } finally {
    for (const { client, vad } of sessions) {
      client.close();
      vad.close();
    }
  }
  return figures;
}

/** How many processes on the machine have a command name that matches. */
function runningNamed(name: RegExp): number {
  return execFileSync('ps', ['-e', '-o', 'comm='], { encoding: 'utf8' })
    .split('\n')
    .filter((comm) => name.test(comm.trim())).length;
}

/** Processes under `root` whose command name matches, as "pid name". */
function descendants(root: number, name: RegExp): string[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([pid, ppid, ...comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm.join(' ') }));
  const found: string[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const row of rows.filter((r) => r.ppid === parent)) {
      queue.push(row.pid);
      if (name.test(row.comm)) found.push(`${row.pid} ${row.comm}`);
    }
  }
  return found;
}

/** A recognizer the gateway left: it runs in a process group of its own (see PocketsphinxProvider). */
function killGroupOf(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v < 0 ? '−' : ''}${Math.abs(v).toFixed(2)} ms`);
const signed = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)} ms`);
/** n/a for a figure that may be negative (a socket closed before the ACK arrived): its ratio means nothing. */
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && a >= 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

type WideRow = [figure: string, gateway: string, floor: string, ratio: string, added: string, target: string];

/** p50 and p99 rows of a figure beside its floor; `added` paired per trial when given, else the difference of the percentiles. */
function rows(label: string, ours: number[], floor: number[], target: { p50?: string; p99?: string } = {}, added?: number[]): WideRow[] {
  const [a, b] = [summarize(ours), summarize(floor)];
  const paired: Summary | undefined = added && summarize(added);
  return (['p50', 'p99'] as const).map((p) => [
    `${label} ${p}`,
    ms(a[p]),
    ms(b[p]),
    ratio(a[p], b[p]),
    signed(paired ? paired[p] : a[p] - b[p]),
    target[p] ?? '',
  ]);
}

export function printVoiceTable(figures: VoiceFigures, options: VoiceOptions): void {
  const { pocketsphinx: ps, fakeRecognizer: fake, resume } = figures;
  const resumeRows = Object.entries(resume.byReason).flatMap(([reason, f]) =>
    rows(
      `false interruption (${reason}, ${f.pauseToResume.length}): PLAYBACK_PAUSE→PLAYBACK_RESUME`,
      f.pauseToResume,
      f.vadSpeech,
      {},
      f.added,
    ),
  );
  const table: WideRow[] = [
    ...rows('speech onset→PLAYBACK_PAUSE at the client (pocketsphinx)', ps.pause, ps.vadStart, { p99: 'added < 20 ms' }, ps.pauseAdded),
    ...rows(
      'speech onset→PLAYBACK_PAUSE at the client (fake recognizer)',
      fake.pause,
      fake.vadStart,
      { p99: 'added < 20 ms' },
      fake.pauseAdded,
    ),
    ...rows('confirmed interruption→upstream aborted, upstream_closed_ms (pocketsphinx)', ps.voiceClosedMs, ps.textClosedMs, {
      p99: '< 10 ms',
    }),
    ...rows('confirmed interruption→upstream aborted, upstream_closed_ms (fake recognizer)', fake.voiceClosedMs, fake.textClosedMs, {
      p99: '< 10 ms',
    }),
    ...rows('INTERRUPT_ACK arrival→upstream saw its socket close (pocketsphinx)', ps.voiceAckToSocket, ps.textAckToSocket),
    ...rows('INTERRUPT_ACK arrival→upstream saw its socket close (fake recognizer)', fake.voiceAckToSocket, fake.textAckToSocket),
    ...rows('end of speech→SPEECH_STOPPED at the client', ps.stopped, ps.vadStop),
    ...rows('end of speech→final TRANSCRIPT, pocketsphinx', ps.transcript, ps.vadStop),
    ...rows('end of speech→final TRANSCRIPT, fake recognizer', fake.transcript, fake.vadStop),
    ...rows('end of speech→first text, pocketsphinx', ps.voiceFirstText, ps.textFirstText),
    ...rows('end of speech→first audio, pocketsphinx', ps.voiceFirstAudio, ps.textFirstAudio),
    ...rows('end of speech→first text, fake recognizer', fake.voiceFirstText, fake.textFirstText),
    ...rows('end of speech→first audio, fake recognizer', fake.voiceFirstAudio, fake.textFirstAudio),
    ...resumeRows,
    ['false interruptions: replies with frames lost or repeated', `${resume.broken} in ${resume.trials} trials`, '', '', '', '0'],
    ['false interruptions: audio frames received while paused', String(resume.framesWhilePaused), '', '', '', '0'],
    [
      'false interruptions: held frames released within 50 ms of the resume, per trial',
      (resume.framesReleased / Math.max(1, resume.trials)).toFixed(1),
      '',
      '',
      '',
      '',
    ],
    ['false interruptions taken for real ones (reply interrupted)', String(resume.interrupted), '', '', '', '0'],
    [
      'utterances over a reply not taken as interruptions (pocketsphinx, fake)',
      `${ps.notInterrupted}, ${fake.notInterrupted}`,
      '',
      '',
      '',
      '0',
    ],
    [
      'utterances that interrupted only after a timeout resume (pocketsphinx, fake)',
      `${ps.lateInterruptions}, ${fake.lateInterruptions}`,
      '',
      '',
      '',
      '0',
    ],
    [
      'pocketsphinx or espeak-ng processes left after the suite (on the whole machine)',
      `${figures.leftProcesses.length} (${figures.onTheMachine})`,
      '',
      '',
      '',
      '0',
    ],
  ];
  const title =
    `Voice (${options.trials} utterances over a playing reply per recognizer, ${options.pocketsphinxSessions} sessions at once with pocketsphinx, ` +
    `${options.sessions} with the fake; ${options.resumeTrials} false interruptions, ${options.resumeSessions} at once)`;
  const lines = [
    `| ${title} | gateway | floor | gateway/floor (cost) | added by the gateway | target |`,
    '|---|---:|---:|---:|---:|---:|',
    ...table.map((r) => `| ${r.join(' | ')} |`),
  ];
  writeTable(lines);
  process.stdout.write(
    [
      '',
      `Floors. Onset→PAUSE: the gateway's own resampler, 20 ms framing, WebRTC VAD (mode ${VAD_DEFAULTS.mode}) and segmenter (start ${VAD_DEFAULTS.startMs} ms,`,
      `silence ${VAD_DEFAULTS.silenceMs} ms) in the bench process, fed each chunk right after it is sent: onset chunk fed→start event; added paired per utterance.`,
      'Upstream aborted (the gateway’s upstream_closed_ms) and ACK→socket closed (at the fake upstream; negative: closed before the ACK arrived):',
      'a client INTERRUPT of the same kind of reply, alternating with the voice turns in the same sessions.',
      'End of speech (the last voiced chunk sent)→SPEECH_STOPPED and →final TRANSCRIPT: the local VAD’s stop event (the silence window and the',
      'VAD’s own hangover). →first text/audio: the same turn as a TEXT REQUEST (after an INTERRUPT of the playing reply), send→first text/audio:',
      'added is what listening costs. PAUSE→RESUME: the local VAD’s start→stop on the same chunks, paired per trial; the false interruptions run',
      `on the fake-recognizer gateway, its transcript "${BACKCHANNEL_TEXT}". Elsewhere added is the difference of the percentiles.`,
      ...(figures.leftProcesses.length > 0 ? [`Left running: ${figures.leftProcesses.join(', ')}`] : []),
      '',
    ].join('\n'),
  );
}
