import 'reflect-metadata';
import type { JsonValue, ToolCall, ToolDefinition, ToolStatusPayload } from '@agent-gateway/protocol';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { lastValueFrom, NEVER, type Observable, Subject, takeUntil, toArray } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import { loadConfig } from '../config/config.schema.js';
import type { ClientToolChannel } from './client-tool-channel.js';
import { PendingFunctionCalls } from './pending-function-calls.js';
import { type ServerTool, ServerToolProvider, ToolError } from './server-tool.js';
import type { ToolCallLog } from './tool-call-log.js';
import { type ToolOutcome, toolMessageContent } from './tool-outcome.js';
import { ToolRegistry } from './tool-registry.service.js';
import { ToolRunner } from './tool-runner.service.js';
import { Uninterruptible } from './uninterruptible.js';

/** Answers at once, fails as its arguments ask, or (`wait`) waits until its signal aborts. */
@Injectable()
@ServerToolProvider()
class LookupTool implements ServerTool {
  readonly enabled = true;
  readonly definition: ToolDefinition = { type: 'function', function: { name: 'lookup' } };
  readonly signals: AbortSignal[] = [];
  execute(args: Record<string, unknown>, signal: AbortSignal): Promise<JsonValue> {
    this.signals.push(signal);
    if (args.fail === 'tool') return Promise.reject(new ToolError('no such port'));
    if (args.fail === 'bug') return Promise.reject(new Error('ECONNRESET 10.0.0.3'));
    if (args.wait === true) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    return Promise.resolve({ args: args as JsonValue, high_tide: '12:04' });
  }
}

@Injectable()
@ServerToolProvider()
class HiddenTool implements ServerTool {
  readonly enabled = false;
  readonly definition: ToolDefinition = { type: 'function', function: { name: 'hidden' } };
  execute(): Promise<JsonValue> {
    return Promise.resolve('never offered');
  }
}

@Injectable()
@ServerToolProvider()
class UnlistedTool implements ServerTool {
  readonly enabled = true;
  readonly definition: ToolDefinition = { type: 'function', function: { name: 'unlisted' } };
  execute(): Promise<JsonValue> {
    return Promise.resolve('not in TOOLS_SERVER');
  }
}

/** Must not be cut in half: resolves when the test says, whatever its signal. */
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

const weather: ToolDefinition = { type: 'function', function: { name: 'get_weather' } };

/** Where the turn records its calls (agent/Turn in the gateway). */
class CallLog implements ToolCallLog {
  readonly requestId = 'r1';
  readonly started: string[] = [];
  readonly outcomes = new Map<string, ToolOutcome>();
  toolStarted(callId: string): void {
    this.started.push(callId);
  }
  toolSettled(callId: string, outcome: ToolOutcome): void {
    this.outcomes.set(callId, outcome);
  }
}

/** The client's side of FUNCTION_CALL / FUNCTION_RESULT, as a session gives it to a request. */
class FakeClientChannel implements ClientToolChannel {
  readonly clientTools = new Map([['get_weather', weather]]);
  readonly sent: string[] = [];
  private readonly pending = new PendingFunctionCalls();
  call(toolCall: ToolCall): Observable<ToolOutcome> {
    return this.pending.wait('r1', toolCall.id, () => this.sent.push(`FUNCTION_CALL ${toolCall.id}`));
  }
  withdraw(callId: string): void {
    this.sent.push(`FUNCTION_CANCEL ${callId}`);
  }
  /** The client's FUNCTION_RESULT; false when nothing waits for it. */
  answer(callId: string, outcome: ToolOutcome): boolean {
    return this.pending.settle('r1', callId, outcome);
  }
}

const config = loadConfig({ TOOLS_SERVER: 'lookup,hidden,pay', TOOLS_CLIENT_TIMEOUT_MS: '50' });
const call = (id: string, name: string, args: string): ToolCall => ({ id, type: 'function', function: { name, arguments: args } });
const brief = (statuses: ToolStatusPayload[]) => statuses.map((s) => [s.call_id, s.state, ...(s.error === undefined ? [] : [s.error])]);

describe('ToolRunner', () => {
  let moduleRef: TestingModule;
  let runner: ToolRunner;
  let lookup: LookupTool;
  let channel: FakeClientChannel;
  let log: CallLog;

  const run = (calls: ToolCall[], stop$: Observable<unknown> = NEVER, uninterruptible = new Uninterruptible()) =>
    runner.run(calls, log, channel, { stop$, uninterruptible });
  /** What the next model call would read of each settled call: its result, or `{"error": …}`. */
  const results = () => [...log.outcomes].map(([id, outcome]) => [id, toolMessageContent(outcome)]);

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [ToolRegistry, ToolRunner, LookupTool, HiddenTool, UnlistedTool, PaymentTool, { provide: APP_CONFIG, useValue: config }],
    })
      .setLogger({ log: () => undefined, error: () => undefined, warn: () => undefined })
      .compile();
    await moduleRef.init();
    runner = moduleRef.get(ToolRunner);
    lookup = moduleRef.get(LookupTool);
    channel = new FakeClientChannel();
    log = new CallLog();
  });

  afterEach(() => moduleRef.close());

  it('offers the configured, enabled server tools and the client’s functions, and knows who runs each', () => {
    expect(runner.definitions(channel).map((tool) => tool.function.name)).toEqual(['lookup', 'pay', 'get_weather']);
    expect(runner.executorOf('lookup', channel)).toBe('server');
    expect(runner.executorOf('get_weather', channel)).toBe('client');
    expect(runner.executorOf('unlisted', channel)).toBe('server');
  });

  it('runs a server tool with its parsed arguments and records its result in the turn', async () => {
    const statuses = await lastValueFrom(run([call('c1', 'lookup', '{"port":"Brest"}'), call('c2', 'lookup', ' ')]).pipe(toArray()));
    expect(brief(statuses)).toEqual([
      ['c1', 'started'],
      ['c2', 'started'],
      ['c1', 'completed'],
      ['c2', 'completed'],
    ]);
    expect(statuses[0]).toEqual({ request_id: 'r1', call_id: 'c1', name: 'lookup', executor: 'server', state: 'started' });
    expect(results()).toEqual([
      ['c1', '{"args":{"port":"Brest"},"high_tide":"12:04"}'],
      ['c2', '{"args":{},"high_tide":"12:04"}'],
    ]);
  });

  it('turns every failure into a result the model reads', async () => {
    const statuses = await lastValueFrom(
      run([
        call('unknown', 'unlisted', '{}'),
        call('garbled', 'lookup', '{"port":'),
        call('array', 'lookup', '[1,2]'),
        call('refused', 'lookup', '{"fail":"tool"}'),
        call('crashed', 'lookup', '{"fail":"bug"}'),
      ]).pipe(toArray()),
    );
    const failed = brief(statuses.filter((s) => s.state === 'failed'));
    expect(failed).toEqual([
      ['unknown', 'failed', 'there is no tool named unlisted'],
      ['garbled', 'failed', 'the arguments are not a JSON object'],
      ['array', 'failed', 'the arguments are not a JSON object'],
      ['refused', 'failed', 'no such port'],
      ['crashed', 'failed', 'the tool failed'],
    ]);
    expect(results()).toEqual(failed.map(([id, , error]) => [id, JSON.stringify({ error })]));
    // The two the tool ran; the others never reached it.
    expect(lookup.signals).toHaveLength(2);
  });

  it('runs the calls at once, and on unsubscribe aborts every running tool’s signal', async () => {
    const statuses: ToolStatusPayload[] = [];
    const subscription = run([call('c1', 'lookup', '{"wait":true}'), call('c2', 'lookup', '{"wait":true}')]).subscribe((s) =>
      statuses.push(s),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(brief(statuses)).toEqual([
      ['c1', 'started'],
      ['c2', 'started'],
    ]);
    expect(lookup.signals.map((signal) => signal.aborted)).toEqual([false, false]);

    subscription.unsubscribe();
    expect(lookup.signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(statuses).toHaveLength(2);
    // Started, never settled: the turn is left to record them as cancelled.
    expect(log.started).toEqual(['c1', 'c2']);
    expect(log.outcomes.size).toBe(0);
  });

  it('stops cancellable tools at once, and holds the stop back until a tool that must finish has its result recorded', async () => {
    const stop$ = new Subject<void>();
    const uninterruptible = new Uninterruptible();
    const statuses: ToolStatusPayload[] = [];
    let stoppedAt: number | undefined;
    const payment = moduleRef.get(PaymentTool);
    run([call('c1', 'lookup', '{"wait":true}'), call('c2', 'pay', '{}')], stop$, uninterruptible)
      .pipe(takeUntil(uninterruptible.deferStop(stop$)))
      .subscribe({ next: (s) => statuses.push(s), complete: () => (stoppedAt = statuses.length) });
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop$.next();
    expect(lookup.signals[0].aborted).toBe(true);
    expect(stoppedAt).toBeUndefined();
    expect(log.outcomes.has('c2')).toBe(false);

    payment.settle?.({ receipt: 'R-1' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(brief(statuses)).toEqual([
      ['c1', 'started'],
      ['c2', 'started'],
      ['c2', 'completed'],
    ]);
    expect(stoppedAt).toBe(3);
    expect(results()).toEqual([['c2', '{"receipt":"R-1"}']]);
  });

  it('asks the client for its functions and takes its answer, result or error', async () => {
    const done = lastValueFrom(run([call('c1', 'get_weather', '{"city":"Brest"}'), call('c2', 'get_weather', '{}')]).pipe(toArray()));
    expect(channel.sent).toEqual(['FUNCTION_CALL c1', 'FUNCTION_CALL c2']);
    expect(channel.answer('c1', { ok: true, result: { sky: 'grey' } })).toBe(true);
    expect(channel.answer('c2', { ok: false, error: 'no city' })).toBe(true);
    expect(brief(await done)).toEqual([
      ['c1', 'started'],
      ['c2', 'started'],
      ['c1', 'completed'],
      ['c2', 'failed', 'no city'],
    ]);
    expect(results()).toEqual([
      ['c1', '{"sky":"grey"}'],
      ['c2', '{"error":"no city"}'],
    ]);
  });

  it('gives up on a client that does not answer in time, tells it to stop, and ignores its late answer', async () => {
    const statuses = await lastValueFrom(run([call('c1', 'get_weather', '{}')]).pipe(toArray()));
    expect(brief(statuses)).toEqual([
      ['c1', 'started'],
      ['c1', 'failed', 'the client did not answer within 50 ms'],
    ]);
    expect(channel.sent).toEqual(['FUNCTION_CALL c1', 'FUNCTION_CANCEL c1']);
    expect(channel.answer('c1', { ok: true, result: 'late' })).toBe(false);
  });
});
