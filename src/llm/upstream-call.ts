import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Observable, type Subscriber } from 'rxjs';
import { Agent, type Dispatcher, request } from 'undici';
import { readCapped } from '../common/read-capped.js';
import { readEventStream } from '../common/read-event-stream.js';
import { describeError, undiciErrorKind } from '../common/undici-error-kind.js';
import type { CallOptions, RelayPart } from './relay-part.js';
import { UpstreamError } from './upstream-error.js';
import { upstreamObject } from './upstream-json.js';
import { abortQuietly } from '../common/abort-quietly.js';

export interface UpstreamTimeouts {
  /** Until the TCP connection, and until the response headers of a streamed call. */
  connectTimeoutMs: number;
  /** Until the first event of a stream (any event or comment: a reasoning model's keep-alives count). */
  firstTokenTimeoutMs: number;
  /** Longest silence between two chunks of the body. */
  idleTimeoutMs: number;
  /** Until the whole answer of a call that is not streamed. */
  requestTimeoutMs: number;
}

/** How a provider's stream reads: each server-sent event to the part it passes on, and when it is over. */
export interface StreamDecoder {
  /** The part for one event, or nothing (a ping). Throws an UpstreamError for an error event. */
  event(message: EventSourceMessage): RelayPart | undefined;
  /** The stream's last event has come ([DONE], message_stop). */
  readonly done: boolean;
  /** The model said it finished: the body may end now without that being a failure. */
  readonly finished: boolean;
}

export interface CallSpec {
  url: string;
  /** The provider's own headers (its key, its version); the client's forwarded ones go under them. */
  headers: Record<string, string>;
  body: unknown;
  streaming: boolean;
  options: CallOptions;
  /** Never to appear in an error's text. */
  secrets: readonly string[];
  /** A non-streamed answer, as the part passed on. */
  whole: (answer: Record<string, unknown>) => RelayPart;
  decoder: () => StreamDecoder;
}

/** Read of an error body: enough for any provider's message; UpstreamError keeps less, once scrubbed. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

type ResponseBody = Dispatcher.ResponseData['body'];

/**
 * One provider's HTTP calls: undici's `request()` — the engine under Node's
 * `fetch`, without the web streams that cost `fetch` a third of its CPU per
 * chunk — and `eventsource-parser`. Every call is a cold Observable whose
 * teardown aborts the request: undici destroys the socket, which is what
 * tells the provider to stop generating.
 */
export class UpstreamCaller {
  private readonly agent: Agent;

  constructor(private readonly timeouts: UpstreamTimeouts) {
    this.agent = new Agent({
      connect: { timeout: timeouts.connectTimeoutMs },
      headersTimeout: timeouts.connectTimeoutMs,
      bodyTimeout: timeouts.idleTimeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  call(spec: CallSpec): Observable<RelayPart> {
    const { firstTokenTimeoutMs } = this.timeouts;
    return new Observable<RelayPart>((subscriber) => {
      const abort = new AbortController();
      // A call that is not streamed says nothing until it is done: only the request time limit applies.
      const firstEventTimer = spec.streaming
        ? setTimeout(
            () => abort.abort(new UpstreamError('UPSTREAM_TIMEOUT', `no event within ${firstTokenTimeoutMs} ms`)),
            firstTokenTimeoutMs,
          )
        : undefined;
      let finished = false;
      this.run(spec, abort.signal, subscriber, {
        onFirstEvent: () => clearTimeout(firstEventTimer),
        onFinished: () => (finished = true),
      }).then(
        () => subscriber.complete(),
        // Provider text may echo the key: scrubbed before anything logs or forwards it.
        (error: unknown) => subscriber.error(toUpstreamError(error, abort.signal).scrubbed(spec.secrets)),
      );
      // A call that ran to its end is left alone so its keep-alive connection
      // can be reused; anything else is cut.
      return () => {
        clearTimeout(firstEventTimer);
        if (!finished) abortQuietly(abort);
      };
    });
  }

  destroy(): Promise<void> {
    return this.agent.destroy();
  }

  private async run(spec: CallSpec, signal: AbortSignal, subscriber: Subscriber<RelayPart>, hooks: StreamHooks): Promise<void> {
    const { streaming, options } = spec;
    const { requestTimeoutMs } = this.timeouts;
    const response = await request(spec.url, {
      method: 'POST',
      dispatcher: this.agent,
      signal,
      ...(!streaming && { headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }),
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        accept: streaming ? 'text/event-stream' : 'application/json',
        ...spec.headers,
      },
      body: JSON.stringify(spec.body),
    });
    options.onResponseHeaders?.(response.headers);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const retryAfter = response.headers['retry-after'];
      throw UpstreamError.fromStatus(
        response.statusCode,
        await readCapped(response.body, MAX_ERROR_BODY_BYTES),
        typeof retryAfter === 'string' ? retryAfter : undefined,
      );
    }
    if (!streaming) {
      const part = spec.whole(await readWhole(response.body));
      hooks.onFinished();
      subscriber.next(part);
      return;
    }
    await readEvents(response.body, spec.decoder(), subscriber, hooks);
  }
}

interface StreamHooks {
  onFirstEvent: () => void;
  onFinished: () => void;
}

async function readWhole(body: ResponseBody): Promise<Record<string, unknown>> {
  return upstreamObject(await body.text(), 'answer');
}

/**
 * Reads the server-sent events of a stream until its last one, passing each
 * on with its meaning. Any event or comment (`: OPENROUTER PROCESSING`) ends
 * the wait for the first one: a reasoning model that is alive is not timed out.
 */
async function readEvents(
  body: ResponseBody,
  decoder: StreamDecoder,
  subscriber: Subscriber<RelayPart>,
  hooks: StreamHooks,
): Promise<void> {
  let alive = false;
  const onAlive = () => {
    if (alive) return;
    alive = true;
    hooks.onFirstEvent();
  };
  const parser = createParser({
    onComment: onAlive,
    onEvent: (message: EventSourceMessage) => {
      onAlive();
      if (decoder.done) return;
      const part = decoder.event(message);
      if (part) subscriber.next(part);
      // Read again: event() may have just set it.
      if (isDone(decoder)) {
        hooks.onFinished();
        subscriber.complete();
      }
    },
  });
  await readEventStream(body, parser, { done: () => decoder.done });
  // Some servers end the body without their last event; that is only fine once the model said it had finished.
  if (!decoder.done && !decoder.finished) throw new UpstreamError('UPSTREAM_DISCONNECTED', 'stream ended before the model finished');
  hooks.onFinished();
}

function isDone(decoder: StreamDecoder): boolean {
  return decoder.done;
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
