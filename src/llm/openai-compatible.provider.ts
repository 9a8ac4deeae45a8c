import type { OnModuleDestroy } from '@nestjs/common';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Observable, type Subscriber } from 'rxjs';
import { Agent, type Dispatcher, request } from 'undici';
import { readCapped } from '../common/read-capped.js';
import { readEventStream } from '../common/read-event-stream.js';
import { describeError, undiciErrorKind } from '../common/undici-error-kind.js';
import { chunkToEvents, completionEvents } from './chat-completion-chunk.js';
import type { CompletionBody, CompletionPart } from './completion-part.js';
import type { LlmDescriptor, LlmEvent, LlmRequest } from './llm-events.js';
import { LlmProvider } from './llm-provider.js';
import { UpstreamError } from './upstream-error.js';

export interface OpenAiCompatibleOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** Until the TCP connection, and until the response headers of a streamed call. */
  connectTimeoutMs: number;
  /** Until the first event of a stream. */
  firstTokenTimeoutMs: number;
  /** Longest silence between two chunks of the body. */
  idleTimeoutMs: number;
  /** Until the whole answer of a call that is not streamed. */
  requestTimeoutMs: number;
}

/** Read of an error body: enough for any provider's message; UpstreamError keeps less, once scrubbed. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** After [DONE], how much more body is read so the connection can be reused, before it is dropped instead. */

type ResponseBody = Dispatcher.ResponseData['body'];

/**
 * Any OpenAI-compatible `POST /chat/completions`. It uses undici's `request()`
 * — the engine under Node's `fetch`, without the web streams that cost
 * `fetch` a third of its CPU per chunk — and `eventsource-parser`. Every call
 * is a cold Observable whose teardown aborts the request: undici destroys the
 * socket, which is what tells the provider to stop generating.
 */
export class OpenAiCompatibleProvider extends LlmProvider implements OnModuleDestroy {
  readonly descriptor: LlmDescriptor;
  private readonly agent: Agent;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    super();
    this.descriptor = { provider: 'openai-compatible', model: options.model, simulated: false };
    this.agent = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.connectTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  stream(llmRequest: LlmRequest): Observable<LlmEvent> {
    const body: CompletionBody = {
      model: this.options.model,
      messages: llmRequest.messages,
      ...(llmRequest.tools?.length && { tools: llmRequest.tools }),
      stream: true,
    };
    return this.call(body).pipe(eventsOf);
  }

  /** Passes a client's body on. A stream always asks for usage, so even a cut one is accounted for. */
  override completion(body: CompletionBody): Observable<CompletionPart> {
    return this.call(body);
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  private call(body: CompletionBody): Observable<CompletionPart> {
    const streaming = body.stream === true;
    return new Observable<CompletionPart>((subscriber) => {
      const abort = new AbortController();
      // A call that is not streamed says nothing until it is done: only the request time limit applies.
      const firstEventTimer = streaming
        ? setTimeout(
            () => abort.abort(new UpstreamError('UPSTREAM_TIMEOUT', `no event within ${this.options.firstTokenTimeoutMs} ms`)),
            this.options.firstTokenTimeoutMs,
          )
        : undefined;
      let finished = false;
      this.run(body, streaming, abort.signal, subscriber, {
        onFirstEvent: () => clearTimeout(firstEventTimer),
        onFinished: () => (finished = true),
      }).then(
        () => subscriber.complete(),
        // Provider text may echo the key: scrubbed before anything logs or forwards it.
        (error: unknown) => subscriber.error(toUpstreamError(error, abort.signal).scrubbed([this.options.apiKey])),
      );
      // A call that ran to its end is left alone so its keep-alive connection
      // can be reused; anything else is cut.
      return () => {
        clearTimeout(firstEventTimer);
        if (!finished) abort.abort();
      };
    });
  }

  private async run(
    body: CompletionBody,
    streaming: boolean,
    signal: AbortSignal,
    subscriber: Subscriber<CompletionPart>,
    hooks: { onFirstEvent: () => void; onFinished: () => void },
  ): Promise<void> {
    const { baseUrl, apiKey, requestTimeoutMs } = this.options;
    const upstreamBody = streaming
      ? { ...body, stream_options: { ...(body.stream_options as object | undefined), include_usage: true } }
      : body;
    const response = await request(`${baseUrl}/chat/completions`, {
      method: 'POST',
      dispatcher: this.agent,
      signal,
      ...(!streaming && { headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }),
      headers: {
        'content-type': 'application/json',
        accept: streaming ? 'text/event-stream' : 'application/json',
        ...(apiKey && { authorization: `Bearer ${apiKey}` }),
      },
      body: JSON.stringify(upstreamBody),
    });
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw UpstreamError.fromStatus(response.statusCode, await readCapped(response.body, MAX_ERROR_BODY_BYTES));
    }
    if (!streaming) {
      const completion = await readCompletion(response.body);
      hooks.onFinished();
      subscriber.next({ type: 'response', body: completion, events: completionEvents(completion) });
      return;
    }
    await readEvents(response.body, subscriber, hooks);
  }
}

async function readCompletion(body: ResponseBody): Promise<Record<string, unknown>> {
  const text = await body.text();
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below, with the start of what came.
  }
  throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `completion is not a JSON object: ${text}`);
}

/** Reads the server-sent events of a stream until [DONE], passing each on with its meaning. */
async function readEvents(
  body: ResponseBody,
  subscriber: Subscriber<CompletionPart>,
  hooks: { onFirstEvent: () => void; onFinished: () => void },
): Promise<void> {
  // Written by the callbacks below, read after the body ends: an object, so the read sees their writes.
  const seen = { done: false, finish: false, firstEvent: false };
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      if (seen.done) return;
      if (message.data.trim() === '[DONE]') {
        seen.done = true;
        hooks.onFinished();
        subscriber.complete();
        return;
      }
      const events = chunkToEvents(message.data);
      if (!seen.firstEvent && events.length > 0) {
        seen.firstEvent = true;
        hooks.onFirstEvent();
      }
      if (events.some((event) => event.type === 'finish')) seen.finish = true;
      subscriber.next({ type: 'chunk', data: message.data, events });
    },
  });
  await readEventStream(body, parser, { done: () => seen.done });
  // Some servers end the body without [DONE]; that is only fine once the model said it had finished.
  if (!seen.done && !seen.finish) throw new UpstreamError('UPSTREAM_DISCONNECTED', 'stream ended before finish_reason or [DONE]');
  hooks.onFinished();
}

/** The events of each part, one by one: a loop, where mergeMap would build an Observable per chunk. */
function eventsOf(parts$: Observable<CompletionPart>): Observable<LlmEvent> {
  return new Observable<LlmEvent>((subscriber) =>
    parts$.subscribe({
      next: (part) => {
        for (const event of part.events) subscriber.next(event);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
}

const UPSTREAM_CODES = {
  timeout: 'UPSTREAM_TIMEOUT',
  disconnected: 'UPSTREAM_DISCONNECTED',
  unreachable: 'UPSTREAM_UNREACHABLE',
  other: 'UPSTREAM_ERROR',
} as const;

function toUpstreamError(error: unknown, signal: AbortSignal): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (signal.reason instanceof UpstreamError) return signal.reason;
  return new UpstreamError(UPSTREAM_CODES[undiciErrorKind(error)], describeError(error), undefined, error);
}
