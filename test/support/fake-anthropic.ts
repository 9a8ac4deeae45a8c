import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RecordedCall, RecordingHttpServer } from './recording-http-server.js';
import { tokenText } from './fake-upstream.js';

export const ANTHROPIC_UPSTREAM_KEY = 'sk-ant-upstream-test';

/** What the fake says its prompts cost (FakeUpstream says 11: a test can tell which one answered). */
export const FAKE_ANTHROPIC_INPUT_TOKENS = 13;

interface ScriptedToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export type AnthropicBehavior =
  | {
      kind: 'stream';
      /** Text deltas (default 2000: effectively endless); `t0 `, `t1 `, … (see tokenText). */
      tokens?: number;
      intervalMs?: number;
      /** Delay before the response headers (of a stream, or of a whole answer). */
      headersDelayMs?: number;
      /** A thinking block before the text. */
      thinking?: string;
      /** After the text, a tool_use block (stop_reason "tool_use"), its input in two input_json_delta pieces. */
      toolUse?: ScriptedToolUse;
      /** After this many text deltas, an `error` event (overloaded_error), as Anthropic ends a stream that failed. */
      errorAfterTokens?: number;
    }
  | { kind: 'status'; status: number; body?: string };

export interface AnthropicCall extends RecordedCall {
  /** Text deltas handed to the socket so far. */
  chunksWritten: number;
}

/**
 * A real local HTTP server speaking Anthropic's Messages API (`POST
 * /v1/messages`, `x-api-key`): the event sequence the real one streams
 * (message_start with the input usage, ping, content blocks, message_delta
 * with the stop reason and output usage, message_stop), or a whole message.
 * It records what happens to each connection, as FakeUpstream does.
 */
export class FakeAnthropic extends RecordingHttpServer<AnthropicCall> {
  behavior: AnthropicBehavior = { kind: 'stream' };

  constructor() {
    super('/v1/messages', ANTHROPIC_UPSTREAM_KEY);
  }

  /** Returns the origin: Anthropic's base URL is the host, the provider adds /v1/messages itself. */
  override async start(): Promise<string> {
    await super.start();
    return this.origin;
  }

  protected override authorized(headers: IncomingMessage['headers'], apiKey: string): boolean {
    return headers['x-api-key'] === apiKey;
  }

  protected recordCall(recorded: RecordedCall): AnthropicCall {
    return Object.assign(recorded, { chunksWritten: 0 });
  }

  protected async serve(call: AnthropicCall, res: ServerResponse): Promise<void> {
    const behavior = this.behavior;
    if (behavior.kind === 'status') {
      res
        .writeHead(behavior.status, { 'content-type': 'application/json', 'request-id': 'req_fake_error' })
        .end(behavior.body ?? JSON.stringify({ type: 'error', error: { type: 'api_error', message: `status ${behavior.status}` } }));
      call.completed = true;
      return;
    }
    if (behavior.headersDelayMs) await sleep(behavior.headersDelayMs);
    // A function: the gateway may close the connection during any await, which TypeScript's narrowing cannot see.
    const gone = () => res.destroyed;
    if (gone()) return;
    if (call.body.stream === true) await this.stream(behavior, call, res, gone);
    else this.whole(behavior, call, res);
  }

  private async stream(
    behavior: Extract<AnthropicBehavior, { kind: 'stream' }>,
    call: AnthropicCall,
    res: ServerResponse,
    gone: () => boolean,
  ) {
    const tokens = behavior.tokens ?? 2000;
    const interval = behavior.intervalMs ?? 2;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_fake' });
    const send = (data: { type: string } & Record<string, unknown>) => res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
    send({
      type: 'message_start',
      message: {
        id: 'msg_fake_upstream',
        type: 'message',
        role: 'assistant',
        model: modelOf(call.body),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: FAKE_ANTHROPIC_INPUT_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    });
    let index = 0;
    if (behavior.thinking) {
      send({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      send({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: behavior.thinking } });
      send({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'sig-fake' } });
      send({ type: 'content_block_stop', index });
      index++;
    }
    send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    send({ type: 'ping' });
    for (let i = 0; i < tokens; i++) {
      if (gone()) return;
      if (i === behavior.errorAfterTokens) {
        send({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
        res.end();
        call.completed = true;
        return;
      }
      send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: tokenText(i) } });
      call.chunksWritten += 1;
      await (interval > 0 ? sleep(interval) : new Promise((resolve) => setImmediate(resolve)));
    }
    if (gone()) return;
    send({ type: 'content_block_stop', index });
    const tool = behavior.toolUse;
    if (tool) {
      index++;
      const json = JSON.stringify(tool.input);
      const half = Math.ceil(json.length / 2);
      send({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} } });
      for (const partial_json of ['', json.slice(0, half), json.slice(half)]) {
        send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
      send({ type: 'content_block_stop', index });
    }
    send({
      type: 'message_delta',
      delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: tokens },
    });
    send({ type: 'message_stop' });
    res.end();
    call.completed = true;
  }

  private whole(behavior: Extract<AnthropicBehavior, { kind: 'stream' }>, call: AnthropicCall, res: ServerResponse): void {
    const tokens = behavior.tokens ?? 20;
    const text = Array.from({ length: tokens }, (_, i) => tokenText(i)).join('');
    const tool = behavior.toolUse;
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake' }).end(
      JSON.stringify({
        id: 'msg_fake_upstream',
        type: 'message',
        role: 'assistant',
        model: modelOf(call.body),
        content: [
          ...(behavior.thinking ? [{ type: 'thinking', thinking: behavior.thinking, signature: 'sig-fake' }] : []),
          { type: 'text', text },
          ...(tool ? [{ type: 'tool_use', ...tool }] : []),
        ],
        stop_reason: tool ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: FAKE_ANTHROPIC_INPUT_TOKENS, output_tokens: tokens },
      }),
    );
    call.completed = true;
  }
}

function modelOf(body: Record<string, unknown>): string {
  return typeof body.model === 'string' ? body.model : 'fake';
}

/** Unref'd: a response still sleeping must not keep the test process alive after stop(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
