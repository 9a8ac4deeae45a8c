import { Uninterruptible } from '../tools/uninterruptible.js';
import 'reflect-metadata';
import type { ChatMessage, JsonValue, ToolDefinition } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { Observable, type Subscriber, takeUntil } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import { loadConfig } from '../config/config.schema.js';
import type { LlmEvent, LlmRequest } from '../llm/llm-events.js';
import { LlmProvider } from '../llm/llm-provider.js';
import { UpstreamError } from '../llm/upstream-error.js';
import { ActiveRequest } from '../requests/active-request.js';
import { Session } from '../session/session.js';
import { cancellation } from '../stops/stop.service.js';
import { type ServerTool, ServerToolProvider } from '../tools/server-tool.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ToolRunner } from '../tools/tool-runner.service.js';
import { modelRounds, type ModelRoundsContext } from './model-rounds.js';
import type { ReplyEvent } from './reply-events.js';
import { Turn } from './turn.js';

/** A server tool that answers `answer`, or, without one, waits until its signal aborts. */
@Injectable()
@ServerToolProvider()
class LookupTool implements ServerTool {
  readonly enabled = true;
  readonly definition: ToolDefinition = { type: 'function', function: { name: 'lookup' } };
  readonly runs: { args: Record<string, unknown>; signal: AbortSignal }[] = [];
  answer?: JsonValue;
  execute(args: Record<string, unknown>, signal: AbortSignal): Promise<JsonValue> {
    this.runs.push({ args, signal });
    if (this.answer !== undefined) return Promise.resolve(this.answer);
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }
}

class ModelCall {
  tornDown = false;
  private finished = false;
  constructor(
    readonly request: LlmRequest,
    private readonly subscriber: Subscriber<LlmEvent>,
  ) {}
  text(text: string): void {
    this.subscriber.next({ type: 'text', text });
  }
  toolCall(index: number, id: string, name: string, args: string): void {
    this.subscriber.next({ type: 'tool_call', index, id, name, arguments: args });
  }
  finish(reason = 'stop'): void {
    this.subscriber.next({ type: 'finish', reason });
    this.finished = true;
    this.subscriber.complete();
  }
  fail(error: Error): void {
    this.finished = true;
    this.subscriber.error(error);
  }
  get aborted(): boolean {
    return this.tornDown && !this.finished;
  }
}

class ScriptedLlm extends LlmProvider {
  readonly descriptor = { provider: 'scripted', model: 'scripted', simulated: false };
  readonly calls: ModelCall[] = [];
  stream(request: LlmRequest): Observable<LlmEvent> {
    return new Observable<LlmEvent>((subscriber) => {
      const call = new ModelCall(request, subscriber);
      this.calls.push(call);
      return () => (call.tornDown = true);
    });
  }
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Must not be cut in half: answers when the test says, whatever its signal. */
@Injectable()
@ServerToolProvider()
class PaymentTool implements ServerTool {
  readonly enabled = true;
  readonly cancellable = false;
  readonly definition: ToolDefinition = { type: 'function', function: { name: 'pay' } };
  settle?: (receipt: JsonValue) => void;
  execute(): Promise<JsonValue> {
    return new Promise((resolve) => (this.settle = resolve));
  }
}

const config = loadConfig({ TOOLS_SERVER: 'lookup,pay' });
const weather: ToolDefinition = { type: 'function', function: { name: 'get_weather' } };
const kindOf = (event: ReplyEvent): string =>
  event.source === 'llm'
    ? `llm:${event.event.type}`
    : event.source === 'tool'
      ? `tool:${event.status.name}:${event.status.state}`
      : event.source;
const system: ChatMessage = { role: 'system', content: 'Be brief.' };

describe('modelRounds', () => {
  let moduleRef: TestingModule;
  let lookup: LookupTool;
  let llm: ScriptedLlm;
  let session: Session;
  let request: ActiveRequest;
  let turn: Turn;
  let upstreamClosed: boolean[][];
  let events: ReplyEvent[];
  let outcome: 'running' | 'completed' | Error;

  /** The rounds, subscribed as the runner does: until the request is cancelled. */
  const run = (overrides: Partial<ModelRoundsContext> = {}): void => {
    const context: ModelRoundsContext = {
      llm,
      tools: moduleRef.get(ToolRunner),
      clients: session.clientToolChannel(request),
      request,
      turn,
      history: [system],
      maxRounds: 4,
      uninterruptible: new Uninterruptible(),
      onUpstreamClosed: () => upstreamClosed.push(llm.calls.map((call) => call.tornDown)),
      ...overrides,
    };
    modelRounds(context)
      .pipe(takeUntil(context.uninterruptible.deferStop(request.cancelled$)))
      .subscribe({
        next: (event) => events.push(event),
        complete: () => (outcome = 'completed'),
        error: (error: Error) => (outcome = error),
      });
  };
  const sentTypes = (): string[] => {
    session.flushToLog();
    return session.log.since(0).frames.map((frame) => (JSON.parse(frame.data as string) as { msg_type: string }).msg_type);
  };

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [ToolRegistry, ToolRunner, LookupTool, PaymentTool, { provide: APP_CONFIG, useValue: config }],
    })
      .setLogger({ log: () => undefined, error: () => undefined, warn: () => undefined })
      .compile();
    await moduleRef.init();
    lookup = moduleRef.get(LookupTool);
    llm = new ScriptedLlm();
    const prefs = {
      platform: 'test',
      requireTts: false,
      audioTransport: 'json' as const,
      durable: false,
      clientTools: new Map([['get_weather', weather]]),
    };
    const limits = { outbound: { highWaterBytes: 64 * 1024, hardLimitBytes: 8 * 1024 * 1024 }, log: config.eventLog };
    session = new Session('sess_a', { userId: 'u1', admin: false }, prefs, limits, () => undefined);
    request = new ActiveRequest('r1', { sessionId: session.id, userId: 'u1', transport: 'ws' });
    turn = new Turn('r1', 'When is high tide?');
    upstreamClosed = [];
    events = [];
    outcome = 'running';
  });

  afterEach(() => moduleRef.close());

  it('runs the tools the model asked for, then calls the model again with their results', async () => {
    lookup.answer = { high_tide: '12:04' };
    run();
    const first = llm.calls[0];
    expect(first.request.messages).toEqual([system, { role: 'user', content: 'When is high tide?' }]);
    expect(first.request.tools?.map((tool) => tool.function.name)).toEqual(['lookup', 'pay', 'get_weather']);
    first.toolCall(0, 'c1', 'lookup', '{"port":"Brest"}');
    first.finish('tool_calls');

    const second = await until(() => llm.calls[1], 'the second model call');
    expect(lookup.runs.map((r) => r.args)).toEqual([{ port: 'Brest' }]);
    const asked = { id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"port":"Brest"}' } };
    expect(second.request.messages.slice(2)).toEqual([
      { role: 'assistant', content: null, tool_calls: [asked] },
      { role: 'tool', tool_call_id: 'c1', content: '{"high_tide":"12:04"}' },
    ]);
    second.text('At 12:04.');
    second.finish();

    expect(outcome).toBe('completed');
    expect(events.map(kindOf)).toEqual([
      'llm:tool_call',
      'llm:finish',
      'tool:lookup:started',
      'tool:lookup:completed',
      'llm:text',
      'llm:finish',
    ]);
    // The hook runs after each model call has been torn down.
    expect(upstreamClosed).toEqual([[true], [true, true]]);
  });

  it('stops at maxRounds: the calls past it get an error result and never run', () => {
    run({ maxRounds: 1 });
    llm.calls[0].toolCall(0, 'c1', 'lookup', '{}');
    llm.calls[0].finish('tool_calls');

    expect(outcome).toBe('completed');
    expect(llm.calls).toHaveLength(1);
    expect(lookup.runs).toEqual([]);
    expect(
      turn
        .toHistory({ kind: 'finished' })
        .map((m) => m.message)
        .at(-1),
    ).toEqual({
      role: 'tool',
      tool_call_id: 'c1',
      content: JSON.stringify({ error: 'no more than 1 model calls per turn' }),
    });
  });

  it('on a cancel while tools run, aborts the server tool, forgets the client call, and calls the model no more', async () => {
    run();
    llm.calls[0].toolCall(0, 'c1', 'lookup', '{}');
    llm.calls[0].toolCall(1, 'c2', 'get_weather', '{"city":"Brest"}');
    llm.calls[0].finish('tool_calls');
    expect(events.map(kindOf).slice(-2)).toEqual(['tool:lookup:started', 'tool:get_weather:started']);
    expect(sentTypes()).toEqual(['FUNCTION_CALL']);
    await until(() => lookup.runs[0], 'the server tool to run');
    expect(lookup.runs[0].signal.aborted).toBe(false);

    request.cancel(cancellation('STOP', 'client'));
    expect(lookup.runs[0].signal.aborted).toBe(true);
    // A FUNCTION_RESULT arriving now finds no pending call: a stale result can never act.
    expect(session.functionResult({ request_id: 'r1', call_id: 'c2', result: 'sunny' })).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(llm.calls).toHaveLength(1);
    expect(events.some((event) => event.source === 'tool' && event.status.state !== 'started')).toBe(false);
  });

  it('on a cancel during a tool that must finish, waits for its result, records it, and calls the model no more', async () => {
    run();
    llm.calls[0].toolCall(0, 'c1', 'pay', '{"amount":5}');
    llm.calls[0].toolCall(1, 'c2', 'lookup', '{}');
    llm.calls[0].finish('tool_calls');
    await until(() => lookup.runs[0], 'the server tools to run');
    request.cancel(cancellation('STOP', 'client'));
    expect(lookup.runs[0].signal.aborted).toBe(true);
    expect(outcome).toBe('running');

    moduleRef.get(PaymentTool).settle?.({ receipt: 'R-1' });
    await until(() => (outcome === 'completed' ? true : undefined), 'the stop to go through');
    expect(llm.calls).toHaveLength(1);
    expect(events.map(kindOf).slice(-1)).toEqual(['tool:pay:completed']);
    turn.cancelUnsettled();
    const tools = turn.toHistory({ kind: 'interrupted', reason: 'STOP' }).filter((m) => m.message.role === 'tool');
    expect(tools.map((m) => m.message.content)).toEqual(['{"receipt":"R-1"}', JSON.stringify({ error: 'cancelled by user' })]);
  });

  it('on a cancel mid-stream, aborts the model call and starts none of the tools it was asking for', async () => {
    run();
    const first = llm.calls[0];
    first.toolCall(0, 'c1', 'lookup', '{"po');
    request.cancel(cancellation('STOP', 'client'));

    expect(first.aborted).toBe(true);
    expect(upstreamClosed).toEqual([[true]]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lookup.runs).toEqual([]);
    expect(llm.calls).toHaveLength(1);
    expect(outcome).toBe('completed');
  });

  it('fails with the model’s error, and runs none of the tools of that call', () => {
    run();
    llm.calls[0].toolCall(0, 'c1', 'lookup', '{}');
    const error = new UpstreamError('UPSTREAM_DISCONNECTED', 'reset');
    llm.calls[0].fail(error);
    expect(outcome).toBe(error);
    expect(lookup.runs).toEqual([]);
  });
});
