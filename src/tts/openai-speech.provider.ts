import type { OnModuleDestroy } from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { Agent, type Dispatcher, request } from 'undici';
import { readCapped } from '../common/read-capped.js';
import { scrubSecrets } from '../common/scrub-secrets.js';
import { describeError, undiciErrorKind } from '../common/undici-error-kind.js';
import { failOnSilence } from './fail-on-silence.js';
import { type FlowControl, type SynthesisRequest, type TtsDescriptor, TtsError, TtsProvider } from './tts-provider.js';
import { abortQuietly } from '../common/abort-quietly.js';

type OpenAiSpeechFormat = 'pcm' | 'mp3' | 'opus' | 'wav';

export interface OpenAiSpeechOptions {
  /** Ends in /v1, without a trailing slash. */
  baseUrl: string;
  /** Sent as a bearer token; no Authorization header when empty. */
  apiKey: string;
  model: string;
  voice: string;
  format: OpenAiSpeechFormat;
  /** OpenAI's pcm is 24 kHz, but compatible servers differ. */
  sampleRate: number;
  /**
   * Until the response headers, and the longest silence until the first audio
   * byte and between two (while the client takes audio; undici's body timeout
   * still judges a server that stays silent while we do not read).
   */
  timeoutMs: number;
}

type ResponseBody = Dispatcher.ResponseData['body'];

const MAX_ERROR_BODY_BYTES = 8 * 1024;

/**
 * Any OpenAI-compatible `POST /audio/speech` whose body streams the audio as
 * it is synthesised. Like the LLM provider it uses undici's `request()`; the
 * Observable's teardown aborts the request, and undici destroys the socket,
 * which is what makes the server stop synthesising (and billing).
 */
export class OpenAiSpeechProvider extends TtsProvider implements OnModuleDestroy {
  readonly descriptor: TtsDescriptor;
  private readonly agent: Agent;

  constructor(private readonly options: OpenAiSpeechOptions) {
    super();
    const { voice, format, sampleRate, timeoutMs } = options;
    this.descriptor = {
      provider: 'openai',
      voice,
      format: { codec: format === 'pcm' ? 'pcm_s16le' : format, sample_rate: sampleRate, channels: 1 },
    };
    this.agent = new Agent({
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  synthesize({ text }: SynthesisRequest, flow: FlowControl): Observable<Buffer> {
    const { timeoutMs } = this.options;
    return new Observable<Buffer>((subscriber) => {
      const abort = new AbortController();
      let body: ResponseBody | undefined;
      let paused = false;
      let finished = false;

      const applyPause = () => {
        // pause() stops 'data' and, once undici's buffer fills, reading from
        // the socket: TCP backpressure then slows the server down.
        if (paused) body?.pause();
        else body?.resume();
      };

      const pausedSubscription = flow.paused$.subscribe((value) => {
        paused = value;
        applyPause();
      });

      this.run(text, abort.signal, subscriber, (responseBody) => {
        body = responseBody;
        applyPause();
      }).then(
        () => {
          finished = true;
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(toTtsError(error)),
      );

      // A body that ended is left alone so its keep-alive connection returns
      // to the pool; anything else is cut, closing the socket.
      return () => {
        pausedSubscription.unsubscribe();
        if (!finished) abortQuietly(abort);
      };
    }).pipe(failOnSilence({ ms: timeoutMs, paused$: flow.paused$, error: () => new TtsError(`no audio for ${timeoutMs} ms`) }));
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  private async run(
    text: string,
    signal: AbortSignal,
    subscriber: Subscriber<Buffer>,
    onBody: (body: ResponseBody) => void,
  ): Promise<void> {
    const { baseUrl, apiKey, model, voice, format } = this.options;
    const response = await request(`${baseUrl}/audio/speech`, {
      method: 'POST',
      dispatcher: this.agent,
      signal,
      headers: {
        'content-type': 'application/json',
        ...(apiKey && { authorization: `Bearer ${apiKey}` }),
      },
      body: JSON.stringify({ model, input: text, voice, response_format: format, stream_format: 'audio' }),
    });
    const { statusCode, body } = response;
    if (statusCode < 200 || statusCode >= 300) {
      // The provider's text may echo the key.
      throw new TtsError(`HTTP ${statusCode}: ${scrubSecrets(await readCapped(body, MAX_ERROR_BODY_BYTES), [apiKey])}`);
    }

    await new Promise<void>((resolve, reject) => {
      // Flowing mode rather than async iteration, so that pause()/resume()
      // from the client's backpressure act on the stream directly.
      body.on('data', (chunk: Buffer) => subscriber.next(chunk));
      body.once('end', resolve);
      body.once('error', reject);
      onBody(body);
    });
  }
}

const KIND_TEXT = { timeout: 'timed out', disconnected: 'connection lost', unreachable: 'unreachable', other: 'request failed' };

function toTtsError(error: unknown): TtsError {
  if (error instanceof TtsError) return error;
  return new TtsError(`${KIND_TEXT[undiciErrorKind(error)]} (${describeError(error)})`, error);
}
