import type { ServerResponse } from 'node:http';
import { expectClosedWithin } from './expect-cut.js';
import { type RecordedCall, RecordingHttpServer } from './recording-http-server.js';

/**
 * A real local HTTP server speaking OpenAI's streaming chat-completions
 * format, which records what happens to each connection. Interrupt tests
 * assert on it: the gateway closed the socket, and when.
 */
export type UpstreamBehavior =
  | {
      kind: 'stream';
      /** Content chunks before finish_reason (default 2000: effectively endless). */
      tokens?: number | ((body: Record<string, unknown>) => number);
      intervalMs?: number;
      /** Chunks written together, in one socket write, between waits (default 1): a busy server's bursts. */
      burst?: number;
      /** Delay before the response headers. */
      headersDelayMs?: number;
      /** Delay between the headers and the first chunk. */
      firstChunkDelayMs?: number;
      /** Send the usage chunk when the client asked for it (default true). */
      usage?: boolean;
      /** Content of the chunks, cycled; by default `t0 `, `t1 `, … (see tokenText). */
      words?: string[] | ((body: Record<string, unknown>) => string[]);
      /** After the words, ask for these tools (finish_reason "tool_calls"); none when it returns nothing. */
      toolCalls?: (body: Record<string, unknown>) => ScriptedToolCall[] | undefined;
      /** Before the words, think this long: SSE comments and `delta.reasoning` chunks only (as OpenRouter and vLLM send them). */
      reasoningMs?: number;
      /** Between finish_reason and the usage chunk. */
      usageDelayMs?: number;
      /** Extra response headers (rate limits, request ids). */
      headers?: Record<string, string>;
    }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Streams `afterTokens` chunks, then destroys the socket without ending the response. */
  | { kind: 'drop'; afterTokens: number }
  /** Streams `afterTokens` chunks, then an event whose data is not JSON. */
  | { kind: 'garbage'; afterTokens: number };

export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface UpstreamCall extends RecordedCall {
  /** Content chunks handed to the socket so far. */
  chunksWritten: number;
}

export const DEFAULT_UPSTREAM_KEY = 'sk-upstream-test';

export class FakeUpstream extends RecordingHttpServer<UpstreamCall> {
  behavior: UpstreamBehavior = { kind: 'stream' };

  constructor() {
    super('/v1/chat/completions', DEFAULT_UPSTREAM_KEY);
  }

  /** The first call whose last user message contains `text`, once it has arrived. */
  callAsking(text: string): Promise<UpstreamCall> {
    return this.callWhere((call) => lastUserText(call.body).includes(text));
  }

  /** Forgets the calls recorded so far (the benchmark reuses one upstream for several targets). */
  clearCalls(): void {
    this.calls.length = 0;
  }

  protected recordCall(recorded: RecordedCall): UpstreamCall {
    return Object.assign(recorded, { chunksWritten: 0 });
  }

  protected async serve(call: UpstreamCall, res: ServerResponse): Promise<void> {
    const unanswered = unansweredToolCalls(call.body);
    if (unanswered.length > 0) {
      // What OpenAI (and DashScope, and vLLM) answer: the history is invalid.
      call.completed = true;
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${unanswered.join(', ')}`,
            type: 'invalid_request_error',
            param: 'messages',
            code: null,
          },
        }),
      );
      return;
    }
    await this.respond(this.behavior, call, res);
  }

  private async respond(behavior: UpstreamBehavior, call: UpstreamCall, res: ServerResponse): Promise<void> {
    const { body } = call;
    if (behavior.kind === 'status') {
      res
        .writeHead(behavior.status, { ...behavior.headers, 'content-type': 'application/json' })
        .end(behavior.body ?? JSON.stringify({ error: { message: `status ${behavior.status}`, type: 'test' } }));
      call.completed = true;
      return;
    }
    const stream = behavior.kind === 'stream' ? behavior : undefined;
    if (stream?.headersDelayMs) await sleep(stream.headersDelayMs);
    // A function: the gateway may close the connection during any await, which TypeScript's narrowing cannot see.
    const gone = () => res.destroyed;
    if (gone()) return;
    if (body.stream !== true) {
      this.respondWhole(stream, call, body, res);
      return;
    }
    res.writeHead(200, { ...stream?.headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (stream?.firstChunkDelayMs) await sleep(stream.firstChunkDelayMs);
    const model = typeof body.model === 'string' ? body.model : 'fake';
    if (stream?.reasoningMs) {
      const until = performance.now() + stream.reasoningMs;
      for (let i = 0; performance.now() < until; i++) {
        if (gone()) return;
        res.write(i % 2 === 0 ? ': OPENROUTER PROCESSING\n\n' : sse(chunk(model, { reasoning: `thinking ${i} ` }, null)));
        await sleep(50);
      }
    }

    const planned = behavior.kind === 'stream' ? (behavior.tokens ?? 2000) : behavior.afterTokens;
    const tokens = typeof planned === 'function' ? planned(body) : planned;
    const interval = stream?.intervalMs ?? 2;
    const words = typeof stream?.words === 'function' ? stream.words(body) : stream?.words;
    res.write(sse(chunk(model, { role: 'assistant', content: '' }, null)));
    const burst = stream?.burst ?? 1;
    for (let i = 0; i < tokens; i++) {
      if (gone()) return;
      const first = i % burst === 0;
      const last = i % burst === burst - 1 || i === tokens - 1;
      if (first && !last) res.cork();
      res.write(sse(chunk(model, { content: words ? words[i % words.length] : tokenText(i) }, null)));
      call.chunksWritten += 1;
      if (!last) continue;
      if (!first) res.uncork();
      // 0: as fast as the event loop allows, yielding between bursts.
      await (interval > 0 ? sleep(interval) : new Promise((resolve) => setImmediate(resolve)));
    }
    if (gone()) return;
    if (behavior.kind === 'drop') {
      res.socket?.destroy();
      return;
    }
    if (behavior.kind === 'garbage') {
      res.write('data: {"choices":[{"delta":{"content":\n\n');
      return; // left open: the gateway must be the one to close it
    }
    const toolCalls = stream?.toolCalls?.(body) ?? [];
    for (const [index, tool] of toolCalls.entries()) {
      // Fragmented like the real thing: id and name first, the arguments in two pieces.
      const half = Math.ceil(tool.arguments.length / 2);
      for (const delta of [
        { index, id: tool.id, type: 'function', function: { name: tool.name, arguments: tool.arguments.slice(0, half) } },
        { index, function: { arguments: tool.arguments.slice(half) } },
      ]) {
        if (gone()) return;
        res.write(sse(chunk(model, { tool_calls: [delta] }, null)));
      }
    }
    res.write(sse(chunk(model, {}, toolCalls.length > 0 ? 'tool_calls' : 'stop')));
    const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (stream?.usageDelayMs) await sleep(stream.usageDelayMs);
    if (gone()) return;
    if (wantsUsage && stream?.usage !== false) {
      res.write(
        sse({
          id: 'chatcmpl-fake',
          object: 'chat.completion.chunk',
          created: 0,
          model,
          choices: [],
          usage: { prompt_tokens: 11, completion_tokens: tokens, total_tokens: 11 + tokens },
        }),
      );
    }
    res.end('data: [DONE]\n\n');
    call.completed = true;
  }

  /** A call without `stream: true`: one chat.completion object, after `headersDelayMs`. */
  private respondWhole(
    stream: Extract<UpstreamBehavior, { kind: 'stream' }> | undefined,
    call: UpstreamCall,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): void {
    const planned = stream?.tokens ?? 20;
    const tokens = typeof planned === 'function' ? planned(body) : planned;
    const words = typeof stream?.words === 'function' ? stream.words(body) : stream?.words;
    const content = Array.from({ length: tokens }, (_, i) => (words ? words[i % words.length] : tokenText(i))).join('');
    res.writeHead(200, { ...stream?.headers, 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 0,
        model: typeof body.model === 'string' ? body.model : 'fake',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: tokens, total_tokens: 11 + tokens },
      }),
    );
    call.completed = true;
  }
}

/** Asserts that the gateway cut this call (see expectClosedWithin). */
export function expectCutWithin(call: UpstreamCall, since: number, withinMs = 1000): Promise<number> {
  return expectClosedWithin(
    { label: `upstream call ${call.index}`, socketClosed: call.socketClosed, ranToEnd: () => call.completed },
    since,
    withinMs,
  );
}

/** The text of chunk i: "t0 ", "t1 ", … so tests can check order and completeness. */
export function tokenText(i: number): string {
  return `t${i} `;
}

interface WireMessage {
  role?: string;
  content?: unknown;
  tool_calls?: { id?: string }[];
  tool_call_id?: string;
}

export function messagesOf(body: Record<string, unknown>): WireMessage[] {
  return Array.isArray(body.messages) ? (body.messages as WireMessage[]) : [];
}

/** Tool call ids of assistant messages that no tool message answers before the next assistant or user message. */
function unansweredToolCalls(body: Record<string, unknown>): string[] {
  const messages = messagesOf(body);
  return messages.flatMap((message, index) => {
    if (message.role !== 'assistant' || !message.tool_calls?.length) return [];
    const answered = new Set<string>();
    for (const next of messages.slice(index + 1)) {
      if (next.role !== 'tool') break;
      if (next.tool_call_id) answered.add(next.tool_call_id);
    }
    return message.tool_calls.map((call) => call.id ?? '').filter((id) => !answered.has(id));
  });
}

export function lastUserText(body: Record<string, unknown>): string {
  const last = messagesOf(body).findLast((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    usage: null,
  };
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** Unref'd: a response still sleeping must not keep the test process alive after stop(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
