import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { FAKE_SPEECH_KEY, FakeSpeechServer } from '../../test/support/fake-speech-server.js';
import { DEFAULT_UPSTREAM_KEY, FakeUpstream } from '../../test/support/fake-upstream.js';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { GatewayClient } from '../src/index.js';
import { nodeSocket } from './support/node-socket.js';
import { RecordingSink } from './support/recording-sink.js';

const SENTENCES = ['The keeper climbed the stairs.', 'She lit the lamp.', 'Boats came home safely.'];
const WORDS = SENTENCES.join(' ')
  .split(' ')
  .map((word) => `${word} `);

describe.each(['binary', 'json'] as const)('audio and playback reports (%s audio)', (audioTransport) => {
  let upstream: FakeUpstream;
  let speech: FakeSpeechServer;
  let gateway: RunningGateway;
  let sink: RecordingSink;
  let client: GatewayClient;

  beforeEach(async () => {
    upstream = new FakeUpstream();
    speech = new FakeSpeechServer();
    gateway = await startGateway({
      LLM_BASE_URL: await upstream.start(),
      LLM_API_KEY: DEFAULT_UPSTREAM_KEY,
      TTS_PROVIDER: 'openai',
      TTS_BASE_URL: await speech.start(),
      TTS_API_KEY: FAKE_SPEECH_KEY,
      TTS_SAMPLE_RATE: '24000',
      TTS_CHUNK_MS: '100',
    });
    sink = new RecordingSink();
    client = new GatewayClient({ url: gateway.wsUrl, webSocket: nodeSocket, speak: true, audioTransport, player: sink });
    await client.connect();
  });

  afterEach(async () => {
    client.close();
    await gateway.close();
    await Promise.all([upstream.stop(), speech.stop()]);
  });

  it('hands the audio to the player in order, with its format and duration', async () => {
    upstream.behavior = { kind: 'stream', words: WORDS, tokens: WORDS.length, intervalMs: 1 };
    const reply = client.request('a story');
    const audio = await firstValueFrom(
      reply.pipe(
        filter((f) => f.kind === 'audio'),
        toArray(),
      ),
    );
    const played = sink.chunksOf(reply.requestId);
    expect(played.map((c) => c.voiceStreamSeq)).toEqual(audio.map((_, i) => i));
    expect(played.length).toBe((await reply.ended()).voice_frames);
    expect(played[0]).toMatchObject({ format: { codec: 'pcm_s16le', sample_rate: 24000, channels: 1 }, durationMs: 100 });
    expect(played[0].audio.length).toBe(4800);
  });

  it('reports playback and, at the interrupt, where it stopped: the gateway keeps what was heard', async () => {
    upstream.behavior = { kind: 'stream', words: WORDS, intervalMs: 5 };
    const reply = client.request('a story');
    await firstValueFrom(
      reply.pipe(
        filter((f) => f.kind === 'audio'),
        take(6),
        toArray(),
      ),
    );
    // 100 ms frames: sentence 1 is frames 0-2, sentence 2 frames 3-4.
    sink.hear(reply.requestId, 3, 50);
    const outcome = reply.interrupt('BARGE_IN');
    const chunksAtStop = sink.chunksOf(reply.requestId).length;
    expect(sink.stopped).toEqual([reply.requestId]);
    await outcome;
    const end = await reply.ended();
    expect(end).toMatchObject({ interrupted: true, heard_text: 'The keeper climbed the stairs. She' });
    expect(sink.chunksOf(reply.requestId)).toHaveLength(chunksAtStop);
    const [, assistant] = await client.history();
    expect(assistant).toMatchObject({ content: 'The keeper climbed the stairs. She', interrupted: { reason: 'BARGE_IN', kept: 'heard' } });
  });

  it('forwards the player’s reports as PLAYBACK, so an interrupt of everything still knows what was heard', async () => {
    upstream.behavior = { kind: 'stream', words: WORDS, intervalMs: 5 };
    const reply = client.request('a story');
    await firstValueFrom(
      reply.pipe(
        filter((f) => f.kind === 'audio'),
        take(6),
        toArray(),
      ),
    );
    sink.hear(reply.requestId, 3, 0);
    await client.interrupt();
    expect(sink.stoppedAll).toBe(1);
    expect(await reply.ended()).toMatchObject({ interrupted: true, heard_text: 'The keeper climbed the stairs.' });
  });
});
