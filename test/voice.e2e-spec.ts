import { execFileSync } from 'node:child_process';
import { type AudioPayload, isAudioPayload, isEndPayload, type ServerEnvelope } from '@agent-gateway/protocol';
import { DEFAULT_UPSTREAM_KEY, expectCutWithin, FakeUpstream, lastUserText } from './support/fake-upstream.js';
import { type RunningGateway, startGateway } from './support/gateway-harness.js';
import { bytesOf, concat, noise, silence, speak, SPEECH_RATE, streamMicrophone } from './support/spoken-audio.js';
import { sleep, TestClient } from './support/test-client.js';

const SENTENCES = ['The keeper climbed the stairs.', 'She lit the lamp.', 'Boats came home safely.'];
const WORDS = SENTENCES.join(' ')
  .split(' ')
  .map((word) => `${word} `);
const HANDS_FREE = { audio_format: { codec: 'pcm_s16le', sample_rate: SPEECH_RATE, channels: 1 }, turn_detection: 'server_vad' } as const;
const PUSH_TO_TALK = { ...HANDS_FREE, turn_detection: 'manual' } as const;

/** Recognizer processes this test worker (the gateway runs in it) still has running, at any depth. */
function recognizersLeft(): number {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((row) => row.length >= 4);
  const ours = new Set([String(process.pid)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of rows) if (ours.has(ppid) && !ours.has(pid)) grew = ours.add(pid).size > 0;
  }
  return rows.filter(([pid, , stat, comm]) => ours.has(pid) && !stat.startsWith('Z') && comm.startsWith('pocketsphinx')).length;
}

const framesOf = (c: TestClient) => c.received.map((r) => r.frame);
const audioSeqs = (c: TestClient, requestId: string, after = 0) =>
  framesOf(c)
    .filter((f): f is ServerEnvelope<'RESPONSE'> => f.msg_type === 'RESPONSE' && (f.seq ?? 0) > after)
    .map((f) => f.payload)
    .filter((p): p is AudioPayload => isAudioPayload(p) && p.request_id === requestId)
    .map((p) => p.voice_stream_seq);

describe('voice input (WebRTC VAD, pocketsphinx, espeak-ng speech)', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const clients: TestClient[] = [];

  const start = async (env: Record<string, string> = {}) => {
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TTS_PROVIDER: 'espeak',
      ASR_PROVIDER: 'pocketsphinx',
      ...env,
    });
  };
  const client = async (audioInput: typeof HANDS_FREE | typeof PUSH_TO_TALK = HANDS_FREE, requireTts = true) => {
    const c = await TestClient.registered(gateway.wsUrl, { require_tts: requireTts, audio_input: audioInput });
    clients.push(c);
    return c;
  };
  /** A reply speaking for as long as nobody stops it, its first audio received. */
  const speakingReply = async (c: TestClient, id: string) => {
    upstream.behavior = { kind: 'stream', words: WORDS, intervalMs: 20 };
    c.request(id, 'tell me about the lighthouse');
    await c.waitFor('RESPONSE', (f) => isAudioPayload(f.payload) && f.payload.request_id === id, { timeoutMs: 10_000 });
  };

  beforeEach(() => {
    upstream = new FakeUpstream();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
    await upstream.stop();
  });

  it('says in REGISTER_ACK what voice input the session got', async () => {
    await start();
    const c = await TestClient.connect(gateway.wsUrl);
    clients.push(c);
    const ack = await c.register({ audio_input: HANDS_FREE });
    expect(ack.audio_input).toMatchObject({
      enabled: true,
      turn_detection: 'server_vad',
      vad: { engine: expect.stringContaining('webrtc') as string, frame_ms: 20 },
      asr: { provider: 'pocketsphinx', language: 'en' },
      min_interruption_ms: 500,
      false_interruption_timeout_ms: 2000,
    });
  });

  it('hands-free: finds the user’s turn, transcribes it, and answers it as a request of its own', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 2 };
    const c = await client();
    const question = await speak('what is the weather like today');
    await streamMicrophone(c, concat(silence(300), question, silence(900)), { speed: 2 });

    const started = await c.waitFor('SPEECH_STARTED');
    const stopped = await c.waitFor('SPEECH_STOPPED');
    expect(started.payload.audio_start_ms).toBeGreaterThanOrEqual(200);
    expect(started.payload.audio_start_ms).toBeLessThan(500);
    expect(stopped.payload.audio_end_ms).toBeGreaterThan(started.payload.audio_start_ms + 1000);
    const transcript = await c.waitFor('TRANSCRIPT', (f) => f.payload.final, { timeoutMs: 10_000 });
    expect(transcript.payload.text).toMatch(/what/);
    const requestId = transcript.payload.request_id ?? '';
    expect(requestId).toMatch(/^voice_/);
    const end = await c.endOf(requestId, 15_000);
    expect(end.interrupted).toBe(false);
    expect(lastUserText(upstream.calls[0].body)).toBe(transcript.payload.text);
    expect(recognizersLeft()).toBe(0);
  });

  it('barge-in: speech over a reply pauses its audio at once, then interrupts it, closes the upstream and starts the user’s turn', async () => {
    await start();
    const c = await client();
    await speakingReply(c, 'story');
    const reply = upstream.calls[0];
    const words = await speak('stop, tell me a joke instead');
    const streamed = streamMicrophone(c, concat(words, silence(800)), { speed: 2 });

    // As a client does: pause at once, and say how far it had played.
    const pause = await c.waitFor('PLAYBACK_PAUSE');
    expect(pause.payload.request_ids).toEqual(['story']);
    c.send('PLAYBACK', { request_id: 'story', voice_stream_seq: 0, played_ms: 100 });
    await streamed;
    const ack = await c.waitFor('INTERRUPT_ACK', undefined, { timeoutMs: 10_000 });
    expect(ack.payload).toMatchObject({ reason: 'USER_SPEECH', interrupted_request_ids: ['story'], status: 'SUCCESS' });
    await expectCutWithin(reply, performance.now(), 1000);
    const end = await c.endOf('story');
    expect(end).toMatchObject({ interrupted: true, interrupt_reason: 'USER_SPEECH' });
    expect(end.heard_text).toBeDefined();
    // Nothing of the old reply's audio after its pause.
    expect(audioSeqs(c, 'story', pause.seq)).toEqual([]);
    expect(
      framesOf(c).filter((f) => f.msg_type === 'RESPONSE' && f.payload.request_id === 'story' && isEndPayload(f.payload)),
    ).toHaveLength(1);
    const turn = await c.waitFor('TRANSCRIPT', (f) => f.payload.final && f.payload.request_id !== undefined, { timeoutMs: 10_000 });
    await upstream.callAsking(turn.payload.text);
    expect(framesOf(c).some((f) => f.msg_type === 'PLAYBACK_RESUME')).toBe(false);
  });

  it('a backchannel over a reply is a false interruption: the audio resumes where it paused, none lost or repeated', async () => {
    await start();
    const c = await client();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length * 2, intervalMs: 5 };
    c.request('story', 'tell me about the lighthouse');
    await c.waitFor('RESPONSE', (f) => isAudioPayload(f.payload) && f.payload.request_id === 'story', { timeoutMs: 10_000 });
    await streamMicrophone(c, concat(await speak('uh huh'), silence(800)), { speed: 2 });

    const pause = await c.waitFor('PLAYBACK_PAUSE');
    const resume = await c.waitFor('PLAYBACK_RESUME', undefined, { timeoutMs: 10_000 });
    expect(resume.payload.request_ids).toEqual(['story']);
    expect(['backchannel', 'too_short']).toContain(resume.payload.reason);
    expect(resume.seq ?? 0).toBeGreaterThan(pause.seq ?? 0);
    const end = await c.endOf('story', 20_000);
    expect(end.interrupted).toBe(false);
    const seqs = audioSeqs(c, 'story');
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(end.voice_frames).toBe(seqs.length);
    // Held while paused: none of its audio between the pause and the resume.
    expect(audioSeqs(c, 'story', pause.seq)).toEqual(audioSeqs(c, 'story', resume.seq));
    expect(framesOf(c).some((f) => f.msg_type === 'INTERRUPT_ACK')).toBe(false);
    expect(upstream.calls).toHaveLength(1);
  });

  it('a noise burst does not interrupt', async () => {
    await start();
    const c = await client();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 5 };
    c.request('story', 'tell me about the lighthouse');
    await c.waitFor('RESPONSE', (f) => isAudioPayload(f.payload) && f.payload.request_id === 'story', { timeoutMs: 10_000 });
    await streamMicrophone(c, concat(noise(250), silence(800)), { speed: 2 });
    const end = await c.endOf('story', 20_000);
    expect(end.interrupted).toBe(false);
    expect(framesOf(c).some((f) => f.msg_type === 'INTERRUPT_ACK')).toBe(false);
    const seqs = audioSeqs(c, 'story');
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('echo: the agent’s own audio fed back as the microphone never interrupts and never becomes a turn', async () => {
    await start();
    const c = await client();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 5 };
    c.request('story', 'tell me about the lighthouse');
    const end = await c.endOf('story', 20_000);
    const own = Buffer.concat(
      framesOf(c)
        .filter((f): f is ServerEnvelope<'RESPONSE'> => f.msg_type === 'RESPONSE' && isAudioPayload(f.payload))
        .map((f) => Buffer.from((f.payload as AudioPayload).content.audio, 'base64')),
    );
    expect(end.voice_frames).toBeGreaterThan(0);
    // A second reply is playing while its own first reply's audio comes back through the microphone.
    await speakingReply(c, 'again');
    const samples = new Int16Array(own.buffer, own.byteOffset, own.length / 2);
    await streamMicrophone(c, concat(samples, silence(900)));
    await c.waitFor('PLAYBACK_PAUSE', undefined, { timeoutMs: 10_000 });
    // The verdict needs the transcript; on a busy machine the reply may resume first, on the timeout.
    const heard = await c.waitFor('TRANSCRIPT', (f) => f.payload.final, { timeoutMs: 20_000 });
    const resume = await c.waitFor('PLAYBACK_RESUME', undefined, { timeoutMs: 5000 });
    expect(['echo', 'timeout']).toContain(resume.payload.reason);
    await sleep(300);
    expect(heard.payload.request_id).toBeUndefined();
    expect(framesOf(c).some((f) => f.msg_type === 'INTERRUPT_ACK')).toBe(false);
    expect(framesOf(c).some((f) => f.msg_type === 'TRANSCRIPT' && f.payload.request_id !== undefined)).toBe(false);
    expect(upstream.calls).toHaveLength(2);
  }, 40_000);

  it('push-to-talk: START, CONTINUE…, END is transcribed, then answered under the client’s request_id; a chunk out of order is refused', async () => {
    await start();
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 2 };
    const c = await client(PUSH_TO_TALK, false);
    const audio = bytesOf(concat(await speak('what is the weather like today'), silence(300)));
    const chunk = 8820;
    c.send('REQUEST', { request_id: 'ptt', data_type: 'AUDIO', stream_flag: 'START', stream_seq: 0, content: { audio: '' } });
    let seq = 1;
    for (let at = 0; at < audio.length; at += chunk) {
      const part = audio.subarray(at, at + chunk).toString('base64');
      if (seq === 3)
        c.send('REQUEST', { request_id: 'ptt', data_type: 'AUDIO', stream_flag: 'CONTINUE', stream_seq: 5, content: { audio: part } });
      c.send('REQUEST', { request_id: 'ptt', data_type: 'AUDIO', stream_flag: 'CONTINUE', stream_seq: seq++, content: { audio: part } });
    }
    c.send('REQUEST', { request_id: 'ptt', data_type: 'AUDIO', stream_flag: 'END', stream_seq: seq, content: { audio: '' } });

    const refused = await c.waitFor('ERROR');
    expect(refused.payload).toMatchObject({ code: 'AUDIO_OUT_OF_ORDER', request_id: 'ptt' });
    const transcript = await c.waitFor('TRANSCRIPT', (f) => f.payload.final, { timeoutMs: 10_000 });
    expect(transcript.payload).toMatchObject({ request_id: 'ptt', final: true });
    expect(transcript.payload.text).toMatch(/what/);
    const end = await c.endOf('ptt', 10_000);
    expect(end.interrupted).toBe(false);
    expect(lastUserText(upstream.calls[0].body)).toBe(transcript.payload.text);
    expect(framesOf(c).filter((f) => f.msg_type === 'ERROR')).toHaveLength(1);
  });

  it('push-to-talk: an INTERRUPT while the audio streams in kills the recognition and ends the request once, with nothing in the history', async () => {
    await start();
    const c = await client(PUSH_TO_TALK);
    const audio = bytesOf(await speak('what is the weather like today'));
    c.send('REQUEST', {
      request_id: 'ptt',
      data_type: 'AUDIO',
      stream_flag: 'START',
      stream_seq: 0,
      content: { audio: audio.subarray(0, 8820).toString('base64') },
    });
    await sleep(200);
    expect(recognizersLeft()).toBe(1);
    c.interrupt('ptt');
    const end = await c.endOf('ptt');
    expect(end.interrupted).toBe(true);
    await sleep(100);
    expect(recognizersLeft()).toBe(0);
    c.send('REQUEST', {
      request_id: 'ptt',
      data_type: 'AUDIO',
      stream_flag: 'CONTINUE',
      stream_seq: 1,
      content: { audio: audio.subarray(8820, 17640).toString('base64') },
    });
    c.send('HISTORY', {});
    const history = await c.waitFor('HISTORY');
    expect(history.payload.messages).toEqual([]);
    expect(framesOf(c).filter((f) => f.msg_type === 'ERROR')).toHaveLength(0);
    expect(upstream.calls).toHaveLength(0);
  });

  it('refuses microphone audio that comes much faster than real time, and goes on taking it at real time', async () => {
    await start();
    const c = await client(HANDS_FREE, false);
    const chunk = bytesOf(silence(1000)).toString('base64');
    for (let i = 0; i < 8; i++) c.send('AUDIO', { content: { audio: chunk } });
    const refused = await c.waitFor('ERROR');
    expect(refused.payload.code).toBe('RATE_LIMITED');
    await sleep(100);
    // Five seconds of burst and a little more: the rest of the eight seconds was refused, each chunk once.
    expect(framesOf(c).filter((f) => f.msg_type === 'ERROR').length).toBeGreaterThanOrEqual(2);
    await sleep(1500);
    const before = framesOf(c).filter((f) => f.msg_type === 'ERROR').length;
    await streamMicrophone(c, silence(400));
    await sleep(100);
    expect(framesOf(c).filter((f) => f.msg_type === 'ERROR')).toHaveLength(before);
  });

  it('refuses audio from a session that did not ask for it, with one clear error', async () => {
    await start();
    const c = await TestClient.registered(gateway.wsUrl, {});
    clients.push(c);
    c.send('AUDIO', { content: { audio: bytesOf(silence(20)).toString('base64') } });
    const error = await c.waitFor('ERROR');
    expect(error.payload.code).toBe('AUDIO_INPUT_DISABLED');
    await sleep(100);
    expect(framesOf(c).filter((f) => f.msg_type === 'ERROR')).toHaveLength(1);
  });
});
