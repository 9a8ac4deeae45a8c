/**
 * `npm run bench`: our gateway side by side, in one run, with a floor doing
 * the same work with the smallest possible code, against the same fake
 * upstream and fake speech server; figures, not pass/fail.
 *   - WebSocket and speech: the floor is bench/floor-gateway.ts (ws + fetch).
 *   - OpenAI-compatible HTTP: the floor is bench/floor-proxy.ts (the smallest
 *     proxy: read, forward with undici, pipe back, abort on close); the
 *     figures directly against the fake upstream show the overhead added, and
 *     the Portkey AI gateway runs alongside as the peer.
 *   - Every client API (chat completions, Responses, Anthropic Messages,
 *     Ollama) through the gateway, beside the floor proxy and the upstream
 *     itself streaming the same tokens (bench/suites/client-apis.ts).
 *   - Two instances on Redis: interrupts of a request running on the other
 *     instance; the floor is two floor gateways relaying the stop over Redis
 *     pub/sub (REDIS_URL mode of bench/floor-gateway.ts).
 *   - A hostile client: one connection sends the costliest frames it can
 *     while a healthy session streams; the floor gateway takes the same.
 *   - Voice input (bench/suites/voice.ts): speech over a playing reply, its
 *     pause, interruption and the turn it starts, and false interruptions;
 *     the floors are the work the gateway cannot avoid (the VAD alone, in
 *     process; a client INTERRUPT; the same turn as text), in the same run.
 *   - Scale (bench/suites/scale.ts): 10,000 registered sessions, 1,000 of
 *     them streaming text, then text and speech, beside the floor gateway
 *     holding the same; the bench raises its open-file limit where it may.
 *
 * Options (environment): BENCH_SESSIONS (200), BENCH_TRIALS (200),
 * BENCH_IDLE_SESSIONS (1000), BENCH_THROUGHPUT_MS (3000),
 * BENCH_SPEECH_SESSIONS (50), BENCH_SPEECH_TRIALS (100), BENCH_SLOW_TRIALS (10),
 * BENCH_HTTP_TRIALS (100), BENCH_CLUSTER_TRIALS (100), BENCH_REDIS_URL (redis://127.0.0.1:6379),
 * BENCH_SOAK_FRAMES (2000), BENCH_VOICE_TRIALS (50), BENCH_VOICE_RESUME_TRIALS (100), BENCH_VOICE_SESSIONS (4),
 * BENCH_VOICE_POCKETSPHINX_SESSIONS (2), BENCH_VOICE_RESUME_SESSIONS (10), BENCH_VOICE_DUMP (a file for every voice sample),
 * BENCH_HTTP_STREAMS (100), BENCH_HTTP_STREAM_TOKENS (2000),
 * BENCH_API_TRIALS (100), BENCH_SCALE_SESSIONS (10000), BENCH_SCALE_STREAMING (1000), BENCH_SCALE_SPEAKING (200), BENCH_SCALE_TRIALS (100),
 * BENCH_ONLY (ws | speech | http | apis | cluster | soak | voice | scale), BENCH_PORTKEY (1; 0 skips it).
 */
import { randomUUID } from 'node:crypto';
import { startPortkey } from './peers/portkey.js';
import { FAKE_SPEECH_KEY, FakeSpeechServer } from '../test/support/fake-speech-server.js';
import { ANTHROPIC_UPSTREAM_KEY, FakeAnthropic } from '../test/support/fake-anthropic.js';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from '../test/support/fake-upstream.js';
import { deleteKeys } from '../test/support/redis-server.js';
import { BenchClient } from './bench-client.js';
import { checkMachine, printTable, type Row, ratio, writeTable } from './report.js';
import { type ClusterFigures, measureCluster } from './suites/cluster.js';
import { BURST, type HttpFigures, type HttpTarget, measureHttp } from './suites/http.js';
import { API_BODIES, type ApiFigures, type BenchUpstream, measureApi, printApiTable } from './suites/client-apis.js';
import { fitToFileLimit, measureScale, type ScaleFigures, type ScalePhase } from './suites/scale.js';
import { measureSoak, type SoakFigures } from './suites/soak.js';
import { measureSpeech, type SpeechFigures } from './suites/speech.js';
import { measureVoice, printVoiceTable, type VoiceFigures } from './suites/voice.js';
import { measureThroughput, measureWs, type WsFigures } from './suites/ws-interrupt.js';
import type { Summary } from './stats.js';
import { BENCH_GATEWAY_ENV, startHttpProcess, startTarget } from './targets.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const wsOptions = {
  sessions: env('BENCH_SESSIONS', 200),
  trials: env('BENCH_TRIALS', 200),
  idleSessions: env('BENCH_IDLE_SESSIONS', 1000),
  throughputMs: env('BENCH_THROUGHPUT_MS', 3000),
};
const speechOptions = {
  sessions: env('BENCH_SPEECH_SESSIONS', 50),
  trials: env('BENCH_SPEECH_TRIALS', 100),
  slowTrials: env('BENCH_SLOW_TRIALS', 10),
};
const httpOptions = {
  trials: env('BENCH_HTTP_TRIALS', 100),
  throughputTokens: 5000,
  concurrentStreams: env('BENCH_HTTP_STREAMS', 100),
  concurrentTokens: env('BENCH_HTTP_STREAM_TOKENS', 2000),
};
const apiTrials = env('BENCH_API_TRIALS', 100);
const clusterTrials = env('BENCH_CLUSTER_TRIALS', 100);
const soakFrames = env('BENCH_SOAK_FRAMES', 2000);
const voiceOptions = {
  trials: env('BENCH_VOICE_TRIALS', 50),
  resumeTrials: env('BENCH_VOICE_RESUME_TRIALS', 100),
  sessions: env('BENCH_VOICE_SESSIONS', 4),
  pocketsphinxSessions: env('BENCH_VOICE_POCKETSPHINX_SESSIONS', 2),
  resumeSessions: env('BENCH_VOICE_RESUME_SESSIONS', 10),
};
const scaleOptions = {
  sessions: env('BENCH_SCALE_SESSIONS', 10_000),
  streaming: env('BENCH_SCALE_STREAMING', 1000),
  // 1,000 speaking sessions overload this 2-core machine (the gateway's lookahead sends audio at about twice real time): see the README.
  speaking: env('BENCH_SCALE_SPEAKING', 200),
  trials: env('BENCH_SCALE_TRIALS', 100),
  tokenIntervalMs: 40,
  measureMs: 5000,
};
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const only = process.env.BENCH_ONLY;
const runs = (suite: 'ws' | 'speech' | 'http' | 'apis' | 'cluster' | 'soak' | 'voice' | 'scale') => only === undefined || only === suite;

interface Figures {
  ws?: WsFigures;
  speech?: SpeechFigures;
  framesPerSecond?: number;
}

type HttpName = 'gateway' | 'proxy' | 'direct' | 'portkey';

const GATEWAY_PORT = 18000;
const FLOOR_PORT = 18100;
const PROXY_PORT = 18200;
const PORTKEY_PORT = 18787;
const APIS_PORTS = { gateway: 18030, proxy: 18230 } as const;
const CLUSTER_PORTS = { gateway: [18010, 18011], floor: [18110, 18111] } as const;
const SOAK_PORTS = { gateway: 18020, floor: 18120 } as const;
const SCALE_PORTS = { gateway: 18040, floor: 18140 } as const;

async function main(): Promise<void> {
  const upstream = new FakeUpstream();
  const speech = new FakeSpeechServer();
  const upstreamUrl = await upstream.start();
  const llm = { LLM_BASE_URL: upstreamUrl, LLM_API_KEY: DEFAULT_UPSTREAM_KEY };
  const tts = { TTS_BASE_URL: await speech.start(), TTS_API_KEY: FAKE_SPEECH_KEY };
  const floor: Figures = {};
  const ours: Figures = {};
  const http: Partial<Record<HttpName, HttpFigures>> = {};
  const cluster: { ours?: ClusterFigures; floor?: ClusterFigures } = {};
  const soak: { ours?: SoakFigures; floor?: SoakFigures } = {};
  let voice: VoiceFigures | undefined;
  const scale: { ours?: ScaleFigures; floor?: ScaleFigures; sessions?: number; streaming?: number; speaking?: number } = {};

  if (runs('ws') || runs('speech')) {
    await checkMachine('the floor');
    process.stderr.write('measuring the floor…\n');
    const target = await startTarget({
      name: 'floor',
      port: FLOOR_PORT,
      nodeArgs: ['--import', 'tsx', 'bench/floor-gateway.ts'],
      env: { ...llm, ...tts },
    });
    try {
      await measureSockets(target, floor, upstream, speech);
    } finally {
      await target.stop();
    }
  }

  if (runs('ws') || runs('speech') || runs('http')) {
    await checkMachine('the gateway');
    process.stderr.write('measuring the gateway…\n');
    const gateway = await startTarget({
      name: 'gateway',
      port: GATEWAY_PORT,
      nodeArgs: ['dist/main.js'],
      env: { ...llm, ...tts, ...BENCH_GATEWAY_ENV },
    });
    try {
      // The WebSocket suites first, as for the floor: after the HTTP suite's hundreds of thousands of chunks,
      // the bench process (the clients and the fake upstream) would measure them with a heap the floor's never had.
      await measureSockets(gateway, ours, upstream, speech);
      if (runs('http')) {
        http.gateway = await measureHttp(
          {
            name: 'gateway',
            url: `http://127.0.0.1:${GATEWAY_PORT}/v1/chat/completions`,
            headers: { authorization: 'Bearer bench' },
            pid: gateway.pid,
          },
          upstream,
          httpOptions,
        );
      }
    } finally {
      await gateway.stop();
    }
  }

  if (runs('http')) {
    const direct: HttpTarget = {
      name: 'direct',
      url: `${upstreamUrl}/chat/completions`,
      headers: { authorization: `Bearer ${DEFAULT_UPSTREAM_KEY}` },
    };
    http.direct = await measureHttp(direct, upstream, httpOptions);
    const proxy = await startHttpProcess({
      name: 'proxy',
      command: [process.execPath, '--import', 'tsx', 'bench/floor-proxy.ts'],
      env: { PORT: String(PROXY_PORT), ...llm },
      readyUrl: `http://127.0.0.1:${PROXY_PORT}/`,
    });
    try {
      http.proxy = await measureHttp(
        { name: 'proxy', url: `http://127.0.0.1:${PROXY_PORT}/`, headers: {}, pid: proxy.pid },
        upstream,
        httpOptions,
      );
    } finally {
      await proxy.stop();
    }
    if (process.env.BENCH_PORTKEY !== '0') {
      const portkey = await startPortkey(PORTKEY_PORT);
      try {
        http.portkey = await measureHttp(
          {
            name: 'portkey',
            url: `http://127.0.0.1:${PORTKEY_PORT}/v1/chat/completions`,
            headers: {
              'x-portkey-provider': 'openai',
              'x-portkey-custom-host': upstreamUrl,
              authorization: `Bearer ${DEFAULT_UPSTREAM_KEY}`,
            },
            pid: portkey.pid,
          },
          upstream,
          httpOptions,
        );
      } finally {
        await portkey.stop();
      }
    }
  }
  let apis: Awaited<ReturnType<typeof measureClientApis>> | undefined;
  if (runs('apis')) {
    await checkMachine('the client APIs');
    process.stderr.write('measuring the client APIs…\n');
    apis = await measureClientApis(upstream, llm);
  }
  if (runs('cluster')) {
    await checkMachine('two instances on Redis');
    process.stderr.write('measuring two instances on Redis…\n');
    Object.assign(cluster, await measureClusters(upstream, llm));
  }
  if (runs('soak')) {
    await checkMachine('a hostile client');
    process.stderr.write('measuring a hostile client…\n');
    Object.assign(soak, await measureSoaks(upstream, llm));
  }
  if (runs('voice')) {
    await checkMachine('voice input');
    process.stderr.write('measuring voice input…\n');
    voice = await measureVoice(upstream, speech, { ...llm, ...tts }, voiceOptions);
  }
  if (runs('scale')) {
    await checkMachine('scale');
    process.stderr.write('measuring scale…\n');
    Object.assign(scale, await measureScales(upstream, speech, { ...llm, ...tts }));
  }
  await Promise.all([upstream.stop(), speech.stop()]);
  report(ours, floor, http, cluster);
  if (scale.ours && scale.floor) printScaleTable(scale.ours, scale.floor, scale.sessions!, scale.streaming!, scale.speaking!);
  if (soak.ours && soak.floor) printSoakTable(soak.ours, soak.floor);
  if (voice) printVoiceTable(voice, voiceOptions);
  if (apis) printApiTable(apis.gateway, apis.floor, apis.direct, apiTrials);
}

/** The FakeAnthropic as the client-API suite drives it: its calls found by the text of their body. */
function benchAnthropic(upstream: FakeAnthropic): BenchUpstream {
  return {
    streamTokens: (tokens, intervalMs) => (upstream.behavior = { kind: 'stream', tokens, intervalMs }),
    callAsking: (text) => upstream.callWhere((call) => JSON.stringify(call.body.messages).includes(text)),
  };
}

/** The FakeUpstream as the client-API suite drives it. */
function benchUpstream(upstream: FakeUpstream): BenchUpstream {
  return {
    streamTokens: (tokens, intervalMs) => (upstream.behavior = { kind: 'stream', tokens, intervalMs }),
    callAsking: (text) => upstream.callAsking(text),
  };
}

/**
 * Every client API through one gateway process, each translated to the same
 * OpenAI-compatible upstream; beside them, in the same run, the floor proxy
 * and the upstream itself doing the same stream as chat completions.
 */
async function measureClientApis(upstream: FakeUpstream, llm: Record<string, string>) {
  const fake = benchUpstream(upstream);
  const anthropic = new FakeAnthropic();
  const anthropicUrl = (await anthropic.start()).replace(/\/v1$/, '');
  const gateway = await startTarget({
    name: 'gateway-apis',
    port: APIS_PORTS.gateway,
    nodeArgs: ['dist/main.js'],
    env: {
      ...llm,
      ...BENCH_GATEWAY_ENV,
      ANTHROPIC_BASE_URL: anthropicUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_UPSTREAM_KEY,
      LLM_MODEL_MAP: 'claude-bench=anthropic:claude-up',
      TTS_PROVIDER: 'none',
    },
  });
  const origin = `http://127.0.0.1:${APIS_PORTS.gateway}`;
  const paths: Record<string, string> = {
    'openai-responses': '/v1/responses',
    'anthropic-messages': '/v1/messages',
    'ollama-chat': '/api/chat',
    'openai-chat': '/v1/chat/completions',
  };
  const figures: Record<string, ApiFigures> = {};
  const targets = Object.entries(paths).map(([name, path]) => ({
    name,
    url: `${origin}${path}`,
    headers: { authorization: 'Bearer bench' },
    body: API_BODIES[name]('fake-model'),
  }));
  try {
    // The process warms up on every API first, so that the one measured first does not pay for it.
    for (const target of targets) await measureApi(target, fake, 20);
    for (const target of targets) figures[target.name] = await measureApi(target, fake, apiTrials);
    // Anthropic to Anthropic: the client's body and the upstream's events passed through.
    figures['anthropic-messages (native upstream)'] = await measureApi(
      {
        name: 'anthropic-native',
        url: `${origin}/v1/messages`,
        headers: { 'x-api-key': 'bench' },
        body: API_BODIES['anthropic-messages']('claude-bench'),
      },
      benchAnthropic(anthropic),
      apiTrials,
    );
  } finally {
    await gateway.stop();
    await anthropic.stop();
  }
  const chat = API_BODIES['openai-chat']('fake-model');
  const direct = await measureApi(
    {
      name: 'direct',
      url: `${llm.LLM_BASE_URL}/chat/completions`,
      headers: { authorization: `Bearer ${DEFAULT_UPSTREAM_KEY}` },
      body: chat,
    },
    fake,
    apiTrials,
  );
  const proxy = await startHttpProcess({
    name: 'proxy',
    command: [process.execPath, '--import', 'tsx', 'bench/floor-proxy.ts'],
    env: { PORT: String(APIS_PORTS.proxy), ...llm },
    readyUrl: `http://127.0.0.1:${APIS_PORTS.proxy}/`,
  });
  try {
    const floor = await measureApi(
      { name: 'floor', url: `http://127.0.0.1:${APIS_PORTS.proxy}/`, headers: {}, body: chat },
      fake,
      apiTrials,
    );
    return { gateway: figures, floor, direct };
  } finally {
    await proxy.stop();
  }
}

/** The floor gateway, then ours, each alone with the hostile client. Ours without rate limits: the worst case, as from many connections. */
async function measureSoaks(upstream: FakeUpstream, llm: Record<string, string>): Promise<{ ours: SoakFigures; floor: SoakFigures }> {
  const measure = async (kind: 'gateway' | 'floor') => {
    const target = await startTarget({
      name: `soak-${kind}`,
      port: SOAK_PORTS[kind],
      nodeArgs: kind === 'floor' ? ['--import', 'tsx', 'bench/floor-gateway.ts'] : ['dist/main.js'],
      env: {
        ...llm,
        TTS_PROVIDER: 'none',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        RATE_LIMIT_MESSAGES_PER_SECOND: '1000000',
        RATE_LIMIT_BURST: '1000000',
        // The healthy session's own log, full from the start: memory measured is what the hostile frames leave.
        EVENT_LOG_MAX_FRAMES: '10',
      },
    });
    try {
      return await measureSoak(target, upstream, { frames: soakFrames });
    } finally {
      await target.stop();
    }
  };
  const floorFigures = await measure('floor');
  return { floor: floorFigures, ours: await measure('gateway') };
}

/** The floor gateway, then ours, each alone holding the sessions (as many as the open-file limit lets the bench hold). */
async function measureScales(upstream: FakeUpstream, speech: FakeSpeechServer, env: Record<string, string>) {
  const options = fitToFileLimit(scaleOptions);
  const measure = async (kind: 'gateway' | 'floor') => {
    const target = await startTarget({
      name: `scale-${kind}`,
      port: SCALE_PORTS[kind],
      nodeArgs: kind === 'floor' ? ['--import', 'tsx', 'bench/floor-gateway.ts'] : ['dist/main.js'],
      env: { ...env, ...BENCH_GATEWAY_ENV },
    });
    try {
      return await measureScale(target, upstream, speech, options);
    } finally {
      await target.stop();
    }
  };
  const floorFigures = await measure('floor');
  return { floor: floorFigures, ours: await measure('gateway'), ...options };
}

function printScaleTable(ours: ScaleFigures, floor: ScaleFigures, sessions: number, streaming: number, speaking: number): void {
  const lag = (label: string, a: ScaleFigures['idleLag'], b: ScaleFigures['idleLag']): Row => [
    `${label}: event-loop lag p99 (max)`,
    `${ms(a.p99)} (${ms(a.max)})`,
    `${ms(b.p99)} (${ms(b.max)})`,
    ratio(a.p99, b.p99),
  ];
  const phase = (label: string, a: ScalePhase, b: ScalePhase, speech: boolean): Row[] => [
    lag(label, a.lag, b.lag),
    ...latencyRows(`${label}: interrupt→ACK`, a.ack, b.ack),
    ...latencyRows(`${label}: interrupt→upstream closed`, a.upstreamClosed, b.upstreamClosed),
    ...(speech ? latencyRows(`${label}: interrupt→speech provider closed`, a.providerClosed, b.providerClosed) : []),
    [
      `${label}: ${speech ? 'text + audio' : 'text'} frames/s received`,
      (a.textFramesPerSecond + a.audioFramesPerSecond).toFixed(0),
      (b.textFramesPerSecond + b.audioFramesPerSecond).toFixed(0),
      ratio(b.textFramesPerSecond + b.audioFramesPerSecond, a.textFramesPerSecond + a.audioFramesPerSecond),
    ],
    [`${label}: the bench's own event-loop lag p99 (clients and fakes)`, ms(a.driverLag.p99), ms(b.driverLag.p99), ''],
  ];
  printTable(`Scale: ${sessions} registered sessions, ${streaming} of them streaming (${scaleOptions.trials} interrupts per phase)`, [
    [
      'memory per idle session',
      kib(ours.bytesPerIdleSession),
      kib(floor.bytesPerIdleSession),
      ratio(ours.bytesPerIdleSession, floor.bytesPerIdleSession),
    ],
    [
      'sessions registered per second',
      ours.registrationsPerSecond.toFixed(0),
      floor.registrationsPerSecond.toFixed(0),
      ratio(floor.registrationsPerSecond, ours.registrationsPerSecond),
    ],
    lag(`${sessions} idle`, ours.idleLag, floor.idleLag),
    ...phase(`${streaming} streaming text`, ours.text, floor.text, false),
    ...phase(`${speaking} streaming text and speech`, ours.speech, floor.speech, true),
  ]);
}

function printSoakTable(ours: SoakFigures, floor: SoakFigures): void {
  printTable(`A hostile client (3 × ${soakFrames} of the costliest frames on one connection)`, [
    [
      'healthy session: longest gap between frames, under attack',
      ms(ours.longestGapMs),
      ms(floor.longestGapMs),
      ratio(ours.longestGapMs, floor.longestGapMs),
    ],
    [
      'healthy session: longest gap, no attack (its own pace)',
      ms(ours.quietGapMs),
      ms(floor.quietGapMs),
      ratio(ours.quietGapMs, floor.quietGapMs),
    ],
    [
      'live memory per 1,000 hostile frames',
      kib(ours.bytesPer1000Frames),
      kib(floor.bytesPer1000Frames),
      ratio(ours.bytesPer1000Frames, floor.bytesPer1000Frames),
    ],
    [
      'time to take the hostile frames',
      `${ours.hostileSeconds.toFixed(2)} s`,
      `${floor.hostileSeconds.toFixed(2)} s`,
      ratio(ours.hostileSeconds, floor.hostileSeconds),
    ],
  ]);
}

/** The WebSocket suites, throughput last: a gateway without backpressure stays busy long after it. */
async function measureSockets(
  target: Awaited<ReturnType<typeof startTarget>>,
  figures: Figures,
  upstream: FakeUpstream,
  speech: FakeSpeechServer,
): Promise<void> {
  upstream.clearCalls();
  if (runs('ws')) figures.ws = await measureWs(target, upstream, wsOptions);
  if (runs('speech')) figures.speech = await measureSpeech(target, upstream, speech, speechOptions);
  if (runs('ws')) figures.framesPerSecond = await measureThroughput(target, upstream, wsOptions);
}

/** Two floors, then two of our gateways, on the machine's Redis (our keys under a prefix of this run's own). */
async function measureClusters(
  upstream: FakeUpstream,
  llm: Record<string, string>,
): Promise<{ ours: ClusterFigures; floor: ClusterFigures }> {
  const start = (kind: 'gateway' | 'floor', index: 0 | 1, extra: Record<string, string>) =>
    startTarget({
      name: `${kind}-${'ab'[index]}`,
      port: CLUSTER_PORTS[kind][index],
      nodeArgs: kind === 'floor' ? ['--import', 'tsx', 'bench/floor-gateway.ts'] : ['dist/main.js'],
      env: { ...llm, REDIS_URL: redisUrl, TTS_PROVIDER: 'none', MAX_SESSIONS_PER_KEY: '1000000', ...extra },
    });
  const floorPrefix = { REDIS_KEY_PREFIX: `agw-bench-floor:${randomUUID()}:` };
  const floors = await Promise.all([start('floor', 0, floorPrefix), start('floor', 1, floorPrefix)]);
  let floor: ClusterFigures;
  try {
    floor = await measureCluster({ a: floors[0], b: floors[1], reach: () => BenchClient.open(floors[1].wsUrl) }, upstream, clusterTrials);
  } finally {
    await Promise.all(floors.map((target) => target.stop()));
  }
  const prefix = `agw-bench:${randomUUID()}:`;
  const gateway = (index: 0 | 1) =>
    start('gateway', index, {
      REDIS_KEY_PREFIX: prefix,
      INSTANCE_ID: 'AB'[index],
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_INTERRUPTS_PER_SECOND: '10000',
    });
  const gateways = await Promise.all([gateway(0), gateway(1)]);
  try {
    const ours = await measureCluster(
      { a: gateways[0], b: gateways[1], reach: (owner) => BenchClient.resume(gateways[1].wsUrl, owner.sessionId!) },
      upstream,
      clusterTrials,
    );
    return { ours, floor };
  } finally {
    await Promise.all(gateways.map((target) => target.stop()));
    await deleteKeys(redisUrl, prefix);
  }
}

function printClusterTable(ours: ClusterFigures, floor: ClusterFigures): void {
  printTable(`Two instances on Redis (${clusterTrials} interrupts each)`, [
    ...latencyRows('interrupt→ACK, request on this instance', ours.localAck, floor.localAck),
    ...latencyRows('interrupt→upstream closed, request on this instance', ours.localClose, floor.localClose),
    ...latencyRows('interrupt→ACK, request on the other instance', ours.remoteAck, floor.remoteAck),
    ...latencyRows('interrupt→upstream closed, request on the other instance', ours.remoteClose, floor.remoteClose),
  ]);
}

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(2)} ms`);
const µs = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(1)} µs`);
const kib = (v: number) => `${(v / 1024).toFixed(1)} KiB`;

function latencyRows(label: string, ours: Summary, floor: Summary): Row[] {
  return (['p50', 'p99'] as const).map((p) => [`${label} ${p}`, ms(ours[p]), ms(floor[p]), ratio(ours[p], floor[p])]);
}

function report(
  ours: Figures,
  floor: Figures,
  http: Partial<Record<HttpName, HttpFigures>>,
  cluster: { ours?: ClusterFigures; floor?: ClusterFigures },
): void {
  if (ours.ws && floor.ws) {
    const n = wsOptions.sessions;
    printTable(`WebSocket text (${wsOptions.trials} interrupts per run)`, [
      ...latencyRows('interrupt→ACK, idle', ours.ws.idleAck, floor.ws.idleAck),
      ...latencyRows('interrupt→upstream closed, idle', ours.ws.idleClose, floor.ws.idleClose),
      ...latencyRows(`interrupt→ACK, ${n} sessions streaming`, ours.ws.loadedAck, floor.ws.loadedAck),
      ...latencyRows(`interrupt→upstream closed, ${n} sessions streaming`, ours.ws.loadedClose, floor.ws.loadedClose),
      [
        `frames/s sustained, ${n} sessions`,
        ours.framesPerSecond!.toFixed(0),
        floor.framesPerSecond!.toFixed(0),
        ratio(floor.framesPerSecond!, ours.framesPerSecond!),
      ],
      [
        'memory per idle session',
        kib(ours.ws.bytesPerIdleSession),
        kib(floor.ws.bytesPerIdleSession),
        ratio(ours.ws.bytesPerIdleSession, floor.ws.bytesPerIdleSession),
      ],
    ]);
  }
  if (ours.speech && floor.speech) {
    const [a, b] = [ours.speech, floor.speech];
    printTable(`Speech (${speechOptions.sessions} sessions speaking, ${speechOptions.trials} interrupts)`, [
      ...latencyRows('first token→first audio', a.firstAudio, b.firstAudio),
      ...latencyRows('interrupt→ACK', a.ack, b.ack),
      ...latencyRows('interrupt→last audio frame received', a.lastAudio, b.lastAudio),
      ...latencyRows('interrupt→speech provider closed', a.providerClosed, b.providerClosed),
      ...latencyRows('interrupt→ACK, client with 5 s of audio queued', a.slowClientAck, b.slowClientAck),
      [
        'memory per speaking session',
        kib(a.bytesPerSpeakingSession),
        kib(b.bytesPerSpeakingSession),
        ratio(a.bytesPerSpeakingSession, b.bytesPerSpeakingSession),
      ],
    ]);
  }
  if (http.gateway && http.proxy && http.direct) printHttpTable(http.gateway, http.proxy, http.direct, http.portkey);
  if (cluster.ours && cluster.floor) printClusterTable(cluster.ours, cluster.floor);
  process.stdout.write('\nRatios are costs: below 1× the gateway does better than the floor (for throughput: floor÷gateway).\n');
}

function printHttpTable(gateway: HttpFigures, proxy: HttpFigures, direct: HttpFigures, portkey?: HttpFigures): void {
  const abort = (f: HttpFigures | undefined, p: 'p50' | 'p99') => {
    if (!f) return 'skipped';
    if (f.abortClose.n === 0) return `never (${f.leftRunning}/${f.leftRunning} left running)`;
    return ms(f.abortClose[p]) + (f.leftRunning ? ` (${f.leftRunning} left running)` : '');
  };
  const value = (f: HttpFigures | undefined, pick: (f: HttpFigures) => string) => (f ? pick(f) : 'skipped');
  const added = (pick: (f: HttpFigures) => number) => `+${(pick(gateway) - pick(direct)).toFixed(2)} ms`;
  const rows: string[][] = [
    ...(['p50', 'p99'] as const).map((p) => [
      `client abort→upstream closed ${p}`,
      abort(gateway, p),
      abort(proxy, p),
      abort(portkey, p),
      ratio(gateway.abortClose[p], proxy.abortClose[p]),
      '',
    ]),
    ...(['p50', 'p99'] as const).map((p) => [
      `time to first token ${p}`,
      ms(gateway.ttft[p]),
      ms(proxy.ttft[p]),
      value(portkey, (f) => ms(f.ttft[p])),
      ratio(gateway.ttft[p], proxy.ttft[p]),
      `${ms(direct.ttft[p])} (${added((f) => f.ttft[p])})`,
    ]),
    [
      `tokens/s, one ${httpOptions.throughputTokens}-token stream`,
      gateway.tokensPerSecond.toFixed(0),
      proxy.tokensPerSecond.toFixed(0),
      value(portkey, (f) => f.tokensPerSecond.toFixed(0)),
      ratio(proxy.tokensPerSecond, gateway.tokensPerSecond),
      direct.tokensPerSecond.toFixed(0),
    ],
    [
      `chunks/s, ${httpOptions.concurrentStreams} unpaced streams at once`,
      gateway.concurrentChunksPerSecond.toFixed(0),
      proxy.concurrentChunksPerSecond.toFixed(0),
      value(portkey, (f) => f.concurrentChunksPerSecond.toFixed(0)),
      ratio(proxy.concurrentChunksPerSecond, gateway.concurrentChunksPerSecond),
      `${direct.concurrentChunksPerSecond.toFixed(0)} (gateway ${ratio(gateway.concurrentChunksPerSecond, direct.concurrentChunksPerSecond)} of direct)`,
    ],
    [
      'CPU per streamed chunk (user + system)',
      µs(gateway.cpuMicrosPerChunk),
      µs(proxy.cpuMicrosPerChunk),
      value(portkey, (f) => µs(f.cpuMicrosPerChunk)),
      ratio(gateway.cpuMicrosPerChunk, proxy.cpuMicrosPerChunk),
      '',
    ],
    [
      `chunks/s, the same, upstream writing ${BURST} chunks at a time`,
      gateway.burstChunksPerSecond.toFixed(0),
      proxy.burstChunksPerSecond.toFixed(0),
      value(portkey, (f) => f.burstChunksPerSecond.toFixed(0)),
      ratio(proxy.burstChunksPerSecond, gateway.burstChunksPerSecond),
      `${direct.burstChunksPerSecond.toFixed(0)} (gateway ${ratio(gateway.burstChunksPerSecond, direct.burstChunksPerSecond)} of direct)`,
    ],
    [
      `CPU per streamed chunk, ${BURST} at a time`,
      µs(gateway.burstCpuMicrosPerChunk),
      µs(proxy.burstCpuMicrosPerChunk),
      value(portkey, (f) => µs(f.burstCpuMicrosPerChunk)),
      ratio(gateway.burstCpuMicrosPerChunk, proxy.burstCpuMicrosPerChunk),
      '',
    ],
  ];
  const lines = [
    `| OpenAI-compatible HTTP (${httpOptions.trials} trials) | gateway | minimal proxy (floor) | Portkey 1.15.2 | gateway/floor (cost) | direct to upstream (added by the gateway) |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  writeTable(lines);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
