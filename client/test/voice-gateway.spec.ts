import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { filter, firstValueFrom, Observable, Subject, takeUntil } from 'rxjs';
import { type RunningGateway, startGateway } from '../../test/support/gateway-harness.js';
import { floatToPcm16, pcm16ToChannels } from '../src/audio/pcm.js';
import { type AudioCapture, type AudioSource, GatewayClient, Resampler, type SpokenReply, type TranscriptPayload } from '../src/index.js';
import { nodeSocket } from './support/node-socket.js';

/** 100 ms of 16 kHz PCM at a time, twice as fast as it would be spoken: the gateway goes by the audio's own clock. */
const PIECE_BYTES = 3200;
const PIECE_EVERY_MS = 50;

/**
 * `text` as espeak-ng says it, with `silenceMs` of silence before and after,
 * in 16 kHz 16-bit PCM: espeak-ng's 22 050 Hz through the SDK's resampler.
 */
async function spoken(text: string, silenceMs = 600): Promise<Uint8Array<ArrayBuffer>> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-gateway-sdk-voice-'));
  try {
    const file = join(dir, 'speech.wav');
    await promisify(execFile)('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', file, text]);
    const wav = await readFile(file);
    const data = wav.indexOf('data');
    const [samples] = pcm16ToChannels(new Uint8Array(wav.buffer, wav.byteOffset + data + 8, wav.length - data - 8), 1);
    const resampler = new Resampler(wav.readUInt32LE(24), 16_000);
    const silence = new Float32Array(16 * silenceMs);
    return floatToPcm16(Float32Array.from([...silence, ...resampler.push(samples), ...resampler.flush(), ...silence]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A microphone that says `pcm`, then falls silent. */
class RecordedMicrophone implements AudioSource {
  constructor(private readonly pcm: Uint8Array<ArrayBuffer>) {}

  async open(): Promise<AudioCapture> {
    const { pcm } = this;
    const stopped = new Subject<void>();
    const chunks$ = new Observable<Uint8Array<ArrayBuffer>>((subscriber) => {
      let at = 0;
      const timer = setInterval(() => {
        subscriber.next(at < pcm.length ? pcm.slice(at, at + PIECE_BYTES) : new Uint8Array(PIECE_BYTES));
        at += PIECE_BYTES;
      }, PIECE_EVERY_MS);
      return () => clearInterval(timer);
    });
    return { chunks$: chunks$.pipe(takeUntil(stopped)), stop: () => stopped.next() };
  }
}

/**
 * Voice input against the real gateway, with espeak-ng's voice and
 * pocketsphinx recognizing it: the SDK's messages are the gateway's. What
 * pocketsphinx makes of espeak-ng varies, so the words are not checked, only
 * that there are some, and which request they start.
 */
describe.each(['binary', 'json'] as const)('voice input against a real gateway (%s audio)', (audioTransport) => {
  let gateway: RunningGateway;
  let client: GatewayClient;

  afterEach(async () => {
    client.close();
    await gateway.close();
  });

  const connect = async (microphone?: AudioSource) => {
    gateway = await startGateway({ ASR_PROVIDER: 'pocketsphinx' });
    client = new GatewayClient({ url: gateway.wsUrl, webSocket: nodeSocket, audioTransport, audioInput: {}, microphone });
    const ack = await client.connect();
    expect(ack.audio_input).toMatchObject({ enabled: true, turn_detection: 'server_vad' });
  };

  it('push-to-talk: START, CONTINUE…, END is recognized and answered as the request', async () => {
    await connect();
    const speech = await spoken('what is the weather like today', 100);
    const transcripts: TranscriptPayload[] = [];
    client.transcripts$.subscribe((t) => transcripts.push(t));
    const utterance = client.beginUtterance();
    for (let at = 0; at < speech.length; at += PIECE_BYTES) utterance.push(speech.subarray(at, at + PIECE_BYTES));
    const reply = utterance.end();
    // It answers (the simulated model's story is long: the first words will do).
    expect(await firstValueFrom(reply.text$)).toMatch(/\w/);
    await reply.interrupt();
    expect(await reply.ended()).toMatchObject({ interrupted: true });
    const final = transcripts.find((t) => t.final);
    expect(final).toMatchObject({ request_id: reply.requestId });
    expect(final?.text).toMatch(/\w/);
  }, 60_000);

  it('push-to-talk: a turn cancelled before its END ends, interrupted, with nothing answered', async () => {
    await connect();
    const utterance = client.beginUtterance();
    utterance.push((await spoken('what is the weather like today', 100)).subarray(0, 16_000));
    const { ack } = await utterance.cancel();
    expect(ack).toMatchObject({ status: 'SUCCESS', interrupted_request_ids: [utterance.requestId] });
    expect(await utterance.reply.ended()).toMatchObject({ interrupted: true, interrupt_reason: 'USER_CANCEL' });
    expect(await utterance.reply.text()).toBe('');
  }, 60_000);

  it('hands-free: the gateway hears the turn in the stream and starts its reply', async () => {
    await connect(new RecordedMicrophone(await spoken('what is the weather like today')));
    const started = firstValueFrom(client.speechStarted$);
    const stopped = firstValueFrom(client.speechStopped$);
    const spokenReply = firstValueFrom(client.spokenReplies$);
    const final = firstValueFrom(client.transcripts$.pipe(filter((t) => t.final)));
    await client.startMicrophone();
    const { audio_start_ms: startMs } = await started;
    // The speech starts after the silence before it.
    expect(startMs).toBeGreaterThanOrEqual(300);
    expect((await stopped).audio_end_ms).toBeGreaterThan(startMs);
    const { reply, transcript }: SpokenReply = await spokenReply;
    expect(transcript).toEqual(await final);
    expect(transcript.text).toMatch(/\w/);
    expect(reply.origin).toBe('speech');
    expect(await firstValueFrom(reply.text$)).toMatch(/\w/);
    client.stopMicrophone();
    await reply.interrupt();
    expect(await reply.ended()).toMatchObject({ interrupted: true });
  }, 60_000);
});
