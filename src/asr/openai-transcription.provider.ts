import { Blob } from 'node:buffer';
import type { OnModuleDestroy } from '@nestjs/common';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Observable, type Subscriber } from 'rxjs';
import { Agent, type Dispatcher, FormData, request } from 'undici';
import { readCapped } from '../common/read-capped.js';
import { readEventStream } from '../common/read-event-stream.js';
import { scrubSecrets } from '../common/scrub-secrets.js';
import { describeError, undiciErrorKind } from '../common/undici-error-kind.js';
import { ASR_SAMPLE_RATE, type AsrDescriptor, AsrError, type AsrEvent, AsrProvider, type RecognitionRequest } from './asr-provider.js';
import { wavHeader } from './pcm-to-wav.js';
import { abortQuietly } from '../common/abort-quietly.js';

export interface OpenAiTranscriptionOptions {
  /** Ends in /v1, without a trailing slash. */
  baseUrl: string;
  /** Sent as a bearer token; no Authorization header when empty. */
  apiKey: string;
  model: string;
  /**
   * From the end of the utterance until the answer (connection and upload
   * included), and the longest silence between two events of a streamed one.
   */
  timeoutMs: number;
  /** Asks for server-sent events (gpt-4o-*-transcribe), which bring partial text; a server that answers JSON anyway is understood too. */
  stream?: boolean;
  /** The longest utterance held for the upload, in PCM bytes (OpenAI takes files up to 25 MB). */
  maxAudioBytes: number;
}

type ResponseBody = Dispatcher.ResponseData['body'];

const MAX_ERROR_BODY_BYTES = 8 * 1024;
/** A transcript as JSON: far more than any utterance says. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** An SSE event that runs longer than this is no transcript event. */
const MAX_EVENT_CHARS = 1024 * 1024;
/** After transcript.text.done, how much more body is read so the connection can be reused, before it is dropped instead. */

/**
 * Any OpenAI-compatible `POST /audio/transcriptions` (OpenAI, Groq, local
 * whisper servers). The endpoint takes a whole file, so the utterance is
 * held in memory while it is spoken and uploaded as one WAV once it is over.
 * It uses undici's `request()` like the other HTTP providers; the
 * Observable's teardown aborts the request, and undici destroys the socket,
 * which is what makes the server drop the work.
 */
export class OpenAiTranscriptionProvider extends AsrProvider implements OnModuleDestroy {
  readonly descriptor: AsrDescriptor;
  private readonly agent: Agent;

  constructor(private readonly options: OpenAiTranscriptionOptions) {
    super();
    this.descriptor = { provider: 'openai', model: options.model };
    this.agent = new Agent({
      connect: { timeout: options.timeoutMs },
      // Our own clock (below) judges the answer; this one only bounds the
      // rest of a body read after transcript.text.done.
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  transcribe(audio$: Observable<Buffer>, { language }: RecognitionRequest): Observable<AsrEvent> {
    const { maxAudioBytes, timeoutMs, apiKey } = this.options;
    return new Observable<AsrEvent>((subscriber) => {
      const abort = new AbortController();
      const chunks: Buffer[] = [];
      let bytes = 0;
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      // Restarted by every event of a streamed answer: the limit is on silence, not on the transcript's length.
      const restartClock = () => {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(new AsrError(`no answer for ${timeoutMs} ms`)), timeoutMs);
      };

      const audioSubscription = audio$.subscribe({
        next: (chunk) => {
          if (subscriber.closed) return;
          bytes += chunk.length;
          if (bytes > maxAudioBytes) {
            subscriber.error(new AsrError(`utterance over ${maxAudioBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        },
        // Not the recognizer's failure: the caller's own error goes back to it unchanged.
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          if (subscriber.closed) return;
          const pcm = Buffer.concat(chunks);
          chunks.length = 0;
          restartClock();
          this.run(pcm, language, abort.signal, subscriber, restartClock).then(
            () => {
              finished = true;
              clearTimeout(timer);
              subscriber.complete();
            },
            (error: unknown) => subscriber.error(toAsrError(error, abort.signal, apiKey)),
          );
        },
      });

      // A call that ran to its end is left alone so its keep-alive connection
      // returns to the pool; anything else is cut, closing the socket.
      return () => {
        audioSubscription.unsubscribe();
        clearTimeout(timer);
        if (!finished) abortQuietly(abort);
      };
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  private async run(
    pcm: Buffer,
    language: string,
    signal: AbortSignal,
    subscriber: Subscriber<AsrEvent>,
    onEvent: () => void,
  ): Promise<void> {
    // Nothing was said: no upload (servers refuse audio this short anyway).
    if (pcm.length === 0) {
      subscriber.next({ type: 'final', text: '' });
      return;
    }
    const { baseUrl, apiKey, model, stream } = this.options;
    const form = new FormData();
    form.append('file', new Blob([await wavHeader(pcm, ASR_SAMPLE_RATE), pcm], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', model);
    // ISO 639-1 is what the endpoint takes: `en-US` is sent as `en`.
    const code = language.split('-')[0].toLowerCase();
    if (code) form.append('language', code);
    form.append('response_format', 'json');
    if (stream) form.append('stream', 'true');

    const { statusCode, headers, body } = await request(`${baseUrl}/audio/transcriptions`, {
      method: 'POST',
      dispatcher: this.agent,
      signal,
      headers: {
        accept: stream ? 'text/event-stream, application/json' : 'application/json',
        ...(apiKey && { authorization: `Bearer ${apiKey}` }),
      },
      body: form,
    });
    if (statusCode < 200 || statusCode >= 300) {
      // The provider's text may echo the key.
      throw new AsrError(`HTTP ${statusCode}: ${scrubSecrets(await readCapped(body, MAX_ERROR_BODY_BYTES), [apiKey])}`);
    }
    if (String(headers['content-type']).startsWith('text/event-stream')) {
      await readEvents(body, subscriber, onEvent, apiKey);
      return;
    }
    subscriber.next({ type: 'final', text: transcriptOf(await readAnswer(body)) });
  }
}

/** The whole body of a JSON answer, refused beyond MAX_ANSWER_BYTES. */
async function readAnswer(body: ResponseBody): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw new AsrError(`answer over ${MAX_ANSWER_BYTES} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

function transcriptOf(answer: string): string {
  const text = (parseObject(answer) ?? {}).text;
  if (typeof text !== 'string') throw new AsrError(`answer has no text: ${answer.slice(0, 200)}`);
  return text;
}

/**
 * Reads the server-sent events of a streamed transcription: each
 * `transcript.text.delta` adds to the partial text, `transcript.text.done`
 * gives the final one.
 */
async function readEvents(body: ResponseBody, subscriber: Subscriber<AsrEvent>, onEvent: () => void, apiKey: string): Promise<void> {
  // Written by the callbacks below, read after the body ends: an object, so the read sees their writes.
  const seen = { text: '', done: false };
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (message: EventSourceMessage) => {
      if (seen.done) return;
      onEvent();
      const event = parseObject(message.data);
      if (!event) return; // `[DONE]` from some servers, or anything else that is no event of ours
      const type = typeof event.type === 'string' ? event.type : message.event;
      if (type === 'transcript.text.delta' && typeof event.delta === 'string') {
        seen.text += event.delta;
        subscriber.next({ type: 'partial', text: seen.text });
      } else if (type === 'transcript.text.done') {
        seen.done = true;
        subscriber.next({ type: 'final', text: typeof event.text === 'string' ? event.text : seen.text });
      } else if (type === 'error') {
        throw new AsrError(`error event: ${scrubSecrets(message.data.slice(0, MAX_ERROR_BODY_BYTES), [apiKey])}`);
      }
    },
  });
  // The caller has its answer at transcript.text.done, whatever the end of the body does.
  await readEventStream(body, parser, { done: () => seen.done, settleWhenDone: true });
  if (!seen.done) throw new AsrError('stream ended before transcript.text.done');
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Not JSON: the caller says what it expected.
  }
  return undefined;
}

const KIND_TEXT = { timeout: 'timed out', disconnected: 'connection lost', unreachable: 'unreachable', other: 'request failed' };

function toAsrError(error: unknown, signal: AbortSignal, apiKey: string): AsrError {
  if (error instanceof AsrError) return error;
  // Our own clock aborted the request, with its reason.
  if (signal.reason instanceof AsrError) return signal.reason;
  return new AsrError(`${KIND_TEXT[undiciErrorKind(error)]} (${scrubSecrets(describeError(error), [apiKey])})`, error);
}
