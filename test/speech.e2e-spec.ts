import { readdirSync, readFileSync } from 'node:fs';
import { decodeAudioFrame, type AudioPayload, isAudioPayload, isEndPayload } from '@agent-gateway/protocol';
import { FakeDashScope, expectCutWithin as expectTaskCutWithin } from './support/fake-dashscope.js';
import { expectedSpeech, expectSpeechCutWithin, FAKE_SPEECH_KEY, FakeSpeechServer } from './support/fake-speech-server.js';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, type UpstreamBehavior } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { sleep, TestClient } from './support/test-client.js';

const SENTENCES = ['The keeper climbed the stairs.', 'She lit the lamp.', 'Boats came home safely.'];
const WORDS = SENTENCES.join(' ')
  .split(' ')
  .map((word) => `${word} `);
const QUIET_MS = 150;

/** A reply of the three sentences (once), streamed fast. */
const threeSentences: UpstreamBehavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 1 };
/** The sentences over and over, for as long as nobody stops it. */
const endlessSentences: UpstreamBehavior = { kind: 'stream', words: WORDS, intervalMs: 5 };

const audioBytes = (frames: AudioPayload[]) => Buffer.concat(frames.map((f) => Buffer.from(f.content.audio, 'base64')));

describe('speech over WebSocket (OpenAI-compatible speech server)', () => {
  let upstream: FakeUpstream;
  let speech: FakeSpeechServer;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TTS_PROVIDER: 'openai',
      TTS_BASE_URL: await speech.start(),
      TTS_API_KEY: FAKE_SPEECH_KEY,
      TTS_SAMPLE_RATE: '24000',
      TTS_CHUNK_MS: '100',
      ...env,
    });
  };
  const client = async (register: Parameters<typeof TestClient.registered>[1] = { require_tts: true }) => {
    const c = await TestClient.registered(gateway.wsUrl, register);
    clients.push(c);
    return c;
  };

  beforeEach(() => {
    upstream = new FakeUpstream();
    speech = new FakeSpeechServer();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await Promise.all([upstream.stop(), speech.stop()]);
  });

  it('speaks each sentence as it completes: gapless, ordered audio, then the end frame', async () => {
    await start();
    upstream.behavior = threeSentences;
    const c = await client();
    c.request('r1');
    const end = await c.endOf('r1');

    expect(speech.calls.map((call) => call.body.input)).toEqual(SENTENCES);
    expect(speech.calls[0].body).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'alloy', response_format: 'pcm' });
    const audio = c.audioOf('r1');
    expect(audio.map((f) => f.voice_stream_seq)).toEqual([...audio.keys()]);
    expect(audio[0].content.audio_format).toEqual({ codec: 'pcm_s16le', sample_rate: 24000, channels: 1 });
    for (const [index, sentence] of SENTENCES.entries()) {
      const frames = audio.filter((f) => f.content.segment_index === index);
      expect(frames[0].content.segment_text).toBe(sentence);
      expect(audioBytes(frames).equals(expectedSpeech(sentence))).toBe(true);
      expect(frames.reduce((ms, f) => ms + f.content.duration_ms!, 0)).toBeCloseTo(sentence.length * 10, 3);
    }
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'stop', voice_frames: audio.length });
    expect(
      c
        .textsOf('r1')
        .map((t) => ('text' in t.content ? t.content.text : ''))
        .join(''),
    ).toBe(WORDS.join(''));
    const endIndex = c.indexOf((f) => f.msg_type === 'RESPONSE' && isEndPayload(f.payload));
    const lastAudioIndex = c.received.findLastIndex((r) => r.frame.msg_type === 'RESPONSE' && isAudioPayload(r.frame.payload));
    expect(lastAudioIndex).toBeLessThan(endIndex);
  });

  it('announces the speech engine in REGISTER_ACK', async () => {
    await start();
    const c = await TestClient.connect(gateway.wsUrl);
    clients.push(c);
    expect((await c.register({ audio_transport: 'binary' })).tts).toEqual({
      enabled: true,
      provider: 'openai',
      voice: 'alloy',
      audio_format: { codec: 'pcm_s16le', sample_rate: 24000, channels: 1 },
      audio_transport: 'binary',
    });
  });

  it('stops synthesis at an interrupt: ACK, no audio after it, speech and LLM connections cut', async () => {
    await start();
    upstream.behavior = endlessSentences;
    speech.behavior = { kind: 'speak', bytesPerChar: 4800, intervalMs: 20 }; // 100 ms of audio per character, slowly
    const c = await client();
    c.request('r1');
    const llmCall = await upstream.call(0);
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 2);
    const speechCall = speech.calls.at(-1)!;

    const sentAt = performance.now();
    c.interrupt('r1');
    expect((await c.waitFor('INTERRUPT_ACK')).payload.interrupted_request_ids).toEqual(['r1']);
    await expectSpeechCutWithin(speechCall, sentAt);
    await expectCutWithin(llmCall, sentAt);
    await sleep(QUIET_MS);

    const ackIndex = c.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    const after = c.received.slice(ackIndex + 1).map((r) => r.frame);
    expect(after).toHaveLength(1);
    expect(after[0].payload).toMatchObject({ request_id: 'r1', interrupted: true, voice_frames: c.audioOf('r1').length });
    expect(speech.calls.every((call) => call.socketClosedAt !== undefined || call.completed)).toBe(true);
  });

  it('closes the speech connection when the client disconnects mid-synthesis', async () => {
    await start();
    upstream.behavior = endlessSentences;
    speech.behavior = { kind: 'speak', bytesPerChar: 4800, intervalMs: 20 };
    const c = await client();
    c.request('r1');
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 1);
    const speechCall = speech.calls.at(-1)!;
    const closedAt = performance.now();
    c.socket.terminate();
    await expectSpeechCutWithin(speechCall, closedAt);
  });

  it('follows require_tts: the session default, overridden per request', async () => {
    await start();
    upstream.behavior = threeSentences;
    const quiet = await client({ require_tts: false });
    quiet.request('silent');
    expect((await quiet.endOf('silent')).voice_frames).toBe(0);
    quiet.send('REQUEST', { request_id: 'spoken', data_type: 'TEXT', content: { text: 'speak' }, require_tts: true });
    expect((await quiet.endOf('spoken')).voice_frames).toBeGreaterThan(0);

    const talkative = await client({ require_tts: true });
    talkative.send('REQUEST', { request_id: 'muted', data_type: 'TEXT', content: { text: 'quiet' }, require_tts: false });
    expect((await talkative.endOf('muted')).voice_frames).toBe(0);
    expect(quiet.audioOf('silent')).toHaveLength(0);
  });

  it('keeps the text when the speech provider fails', async () => {
    await start();
    upstream.behavior = threeSentences;
    speech.behavior = { kind: 'status', status: 500 };
    const c = await client();
    c.request('r1');
    const end = await c.endOf('r1');
    expect(end).toMatchObject({ interrupted: false, finish_reason: 'stop', tts_error: { code: 'TTS_ERROR' } });
    expect(c.frames('ERROR').map((f) => f.payload)).toEqual([
      { code: 'TTS_ERROR', message: 'Speech synthesis failed; the reply continues as text', request_id: 'r1' },
    ]);
    expect(c.textsOf('r1')).toHaveLength(WORDS.length);
    expect(c.audioOf('r1')).toHaveLength(0);
  });

  it('sends audio as binary frames to a client that asked for them', async () => {
    await start();
    upstream.behavior = threeSentences;
    const c = await client({ require_tts: true, audio_transport: 'binary' });
    c.request('bin-1');
    const end = await c.endOf('bin-1');
    const frames = c.binary.map((b) => decodeAudioFrame(b));
    expect(frames.map((f) => f.requestId)).toEqual(frames.map(() => 'bin-1'));
    expect(frames.map((f) => f.voiceStreamSeq)).toEqual([...frames.keys()]);
    expect(end.voice_frames).toBe(frames.length);
    expect(Buffer.concat(frames.map((f) => f.audio)).equals(Buffer.concat(SENTENCES.map((s) => expectedSpeech(s))))).toBe(true);
    expect(c.audioOf('bin-1')).toHaveLength(0);
  });

  it('lets the ACK overtake a large audio backlog on a client that stopped reading, and pauses synthesis meanwhile', async () => {
    await start({ WS_SEND_HIGH_WATER_BYTES: '16384', WS_SEND_HARD_LIMIT_BYTES: String(256 * 1024 * 1024) });
    upstream.behavior = threeSentences;
    // Ten seconds of audio per character, written as fast as the gateway reads it: far more than socket buffers hold.
    speech.behavior = { kind: 'speak', bytesPerChar: 480_000, intervalMs: 0, chunkBytes: 48_000 };
    const c = await client();
    c.request('r1');
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 1);
    c.socket.pause();
    const firstCall = speech.calls[0];
    // Backpressure reached the speech server: once the buffers on the way are full, it cannot write on
    // while the client does not read (how soon they fill depends on the machine's load, not on the gateway).
    let writtenWhilePaused = -1;
    for (let checks = 0; checks < 20 && firstCall.bytesWritten !== writtenWhilePaused; checks++) {
      writtenWhilePaused = firstCall.bytesWritten;
      await sleep(300);
    }
    expect(firstCall.bytesWritten).toBe(writtenWhilePaused);
    expect(firstCall.bytesWritten).toBeLessThan(SENTENCES[0].length * 480_000);

    c.interrupt('r1');
    await sleep(100);
    c.socket.resume();
    await c.waitFor('INTERRUPT_ACK');
    await c.endOf('r1');
    await sleep(QUIET_MS);
    const ackIndex = c.indexOf((f) => f.msg_type === 'INTERRUPT_ACK');
    const audioBeforeAck = c.received.slice(0, ackIndex).filter((r) => r.frame.msg_type === 'RESPONSE').length;
    expect(c.received.slice(ackIndex + 1).map((r) => r.frame.msg_type)).toEqual(['RESPONSE']);
    // What was already in the socket buffers arrives first; the gateway's own backlog was dropped.
    const receivedAudioBytes = audioBytes(c.audioOf('r1')).length;
    expect(receivedAudioBytes).toBeLessThan(firstCall.bytesWritten);
    expect(audioBeforeAck).toBeGreaterThan(0);
  });

  it('counts in the end frame and keeps in the history only what a slow client was sent before the interrupt', async () => {
    await start({ WS_SEND_HIGH_WATER_BYTES: '1024', WS_SEND_HARD_LIMIT_BYTES: String(256 * 1024 * 1024) });
    // The model writes on while the client does not read: text deltas pile up in the queue, behind the audio.
    upstream.behavior = endlessSentences;
    speech.behavior = { kind: 'speak', bytesPerChar: 480_000, intervalMs: 0, chunkBytes: 48_000 };
    const c = await client();
    c.request('r1');
    const llmCall = await upstream.call(0);
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 1);
    c.socket.pause();
    // Until a backlog has built up in the gateway's queue (how long that takes depends on the machine's load).
    // Frames already in the socket's buffers when it paused arrive later and count as received: a wide margin.
    for (let waited = 0; waited < 10_000 && llmCall.chunksWritten < c.textsOf('r1').length + 50; waited += 100) await sleep(100);
    await sleep(100);
    c.interrupt('r1');
    await llmCall.socketClosed;
    c.socket.resume();
    const end = await c.endOf('r1', 20_000);

    const audio = c.audioOf('r1');
    expect(audio.map((f) => f.voice_stream_seq)).toEqual([...audio.keys()]);
    expect(end).toMatchObject({ interrupted: true, voice_frames: audio.length });
    const texts = c.textsOf('r1');
    expect(texts.map((t) => t.text_stream_seq)).toEqual([...texts.keys()]);
    // The model's deltas that never reached the client were dropped from the queue…
    expect(texts.length).toBeLessThan(llmCall.chunksWritten - 10);
    // …and the history holds what the client got.
    const delivered = texts.map((t) => ('text' in t.content ? t.content.text : '')).join('');
    c.send('HISTORY', {});
    const [, assistant] = (await c.waitFor('HISTORY')).payload.messages;
    expect(assistant).toMatchObject({ role: 'assistant', content: delivered, interrupted: { kept: 'delivered' } });
  }, 60_000);

  it('closes the session of a client that stays behind past the hard limit, and only that one', async () => {
    await start({ WS_SEND_HIGH_WATER_BYTES: '4096', WS_SEND_HARD_LIMIT_BYTES: String(256 * 1024) });
    // Endless, fast, large text deltas (text is never paused): megabytes, more than the socket buffers hold.
    upstream.behavior = { kind: 'stream', words: [`${'x'.repeat(2000)} `], tokens: 1_000_000, intervalMs: 0 };
    const bystander = await client({ require_tts: false });
    const slow = await client({ require_tts: false });
    slow.socket.pause();
    slow.request('r1');
    const call = await upstream.callAsking('Tell me');
    await expectCutWithin(call, performance.now(), 10_000);
    slow.socket.resume();
    expect(await slow.closed).toEqual({ code: 1008, reason: 'SLOW_CONSUMER' });
    expect(slow.frames('ERROR').at(-1)?.payload.code).toBe('SLOW_CONSUMER');
    bystander.send('HEARTBEAT', {});
    await bystander.waitFor('HEARTBEAT');
  });

  it('reports what the user heard, from PLAYBACK and played_until', async () => {
    await start();
    upstream.behavior = endlessSentences;
    const c = await client();
    c.request('r1');
    await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 6);
    // 100 ms frames: sentence 1 is frames 0-2 (300 ms), sentence 2 frames 3-4 (170 ms).
    c.send('PLAYBACK', { request_id: 'r1', voice_stream_seq: 2, played_ms: 50 });
    c.send('INTERRUPT', { interrupt_request_id: 'r1', reason: 'BARGE_IN', played_until: { voice_stream_seq: 3, played_ms: 50 } });
    const end = await c.endOf('r1');
    expect(end).toMatchObject({ interrupted: true, heard_text: 'The keeper climbed the stairs. She' });

    c.send('PLAYBACK', { request_id: 'nobody', voice_stream_seq: 0, played_ms: 0 });
    expect((await c.waitFor('ERROR')).payload).toMatchObject({ code: 'UNKNOWN_REQUEST', request_id: 'nobody' });
  });
});

describe('speech over WebSocket (DashScope CosyVoice)', () => {
  it('closes the DashScope socket at an interrupt', async () => {
    const upstream = new FakeUpstream();
    const dashscope = new FakeDashScope();
    const gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TTS_PROVIDER: 'dashscope',
      TTS_BASE_URL: await dashscope.start(),
      TTS_API_KEY: 'sk-dashscope-test',
      TTS_SAMPLE_RATE: '22050',
    });
    const c = await TestClient.registered(gateway.wsUrl, { require_tts: true });
    try {
      upstream.behavior = endlessSentences;
      dashscope.behavior = { kind: 'speak', framesPerChar: 20, intervalMs: 10 };
      c.request('r1');
      await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 2);
      const task = dashscope.tasks.at(-1)!;
      expect(task.messages[0]).toMatchObject({ payload: { model: 'cosyvoice-v3-flash', parameters: { voice: 'longanyang' } } });
      const sentAt = performance.now();
      c.interrupt('r1');
      await expectTaskCutWithin(task, sentAt);
      expect((await c.endOf('r1')).interrupted).toBe(true);
    } finally {
      c.close();
      await gateway.close();
      await Promise.all([upstream.stop(), dashscope.stop()]);
    }
  });
});

/** espeak-ng processes that are children of this test process. */
function espeakChildren(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return stat.includes('(espeak-ng)') && ppid === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('speech over WebSocket (the real espeak-ng)', () => {
  it('speaks by default and leaves no espeak-ng process behind an interrupt', async () => {
    const upstream = new FakeUpstream();
    const gateway = await startGateway({ LLM_BASE_URL: await upstream.start(), LLM_API_KEY: DEFAULT_UPSTREAM_KEY });
    const c = await TestClient.registered(gateway.wsUrl, { require_tts: true });
    try {
      upstream.behavior = endlessSentences;
      c.request('r1');
      await c.waitFor('RESPONSE', () => c.audioOf('r1').length >= 3);
      expect(c.audioOf('r1')[0].content.audio_format).toEqual({ codec: 'pcm_s16le', sample_rate: 22050, channels: 1 });
      c.interrupt('r1');
      await c.endOf('r1');
      const deadline = performance.now() + 2000;
      while (espeakChildren().length > 0 && performance.now() < deadline) await sleep(20);
      expect(espeakChildren()).toEqual([]);
    } finally {
      c.close();
      await gateway.close();
      await upstream.stop();
    }
  });
});
