import { lastValueFrom } from 'rxjs';
import type { JsonValue } from '@agent-gateway/protocol';
import { type ServerTool, ToolError } from './server-tool.js';
import { executeServerTool } from './server-tool-execution.js';

/** A tool that waits until it is aborted, recording the signal it was given. */
class WaitingTool implements ServerTool {
  readonly enabled = true;
  readonly definition = { type: 'function' as const, function: { name: 'wait' } };
  signal?: AbortSignal;
  execute(_args: Record<string, unknown>, signal: AbortSignal): Promise<JsonValue> {
    this.signal = signal;
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
  }
}

describe('executeServerTool', () => {
  it('aborts the tool’s signal the moment it is unsubscribed', () => {
    const tool = new WaitingTool();
    const subscription = executeServerTool(tool, {}, 10_000).subscribe();
    expect(tool.signal?.aborted).toBe(false);
    subscription.unsubscribe();
    expect(tool.signal?.aborted).toBe(true);
  });

  it('turns the time limit into an outcome the model can read', async () => {
    const tool = new WaitingTool();
    expect(await lastValueFrom(executeServerTool(tool, {}, 20))).toEqual({ ok: false, error: 'the tool took longer than 20 ms' });
  });

  it('answers at the time limit even when the tool ignores its signal, and aborts it', async () => {
    let signal: AbortSignal | undefined;
    const deaf: ServerTool = {
      enabled: true,
      definition: { type: 'function', function: { name: 'deaf' } },
      execute: (_args, given) => {
        signal = given;
        return new Promise<never>(() => undefined);
      },
    };
    expect(await lastValueFrom(executeServerTool(deaf, {}, 20))).toEqual({ ok: false, error: 'the tool took longer than 20 ms' });
    expect(signal?.aborted).toBe(true);
  });

  it('passes ToolError messages on and hides other failures', async () => {
    const failing = (error: Error): ServerTool => ({
      enabled: true,
      definition: { type: 'function', function: { name: 'f' } },
      execute: () => Promise.reject(error),
    });
    expect(await lastValueFrom(executeServerTool(failing(new ToolError('no such city')), {}, 1000))).toEqual({
      ok: false,
      error: 'no such city',
    });
    expect(await lastValueFrom(executeServerTool(failing(new Error('ECONNRESET 10.0.0.3')), {}, 1000))).toEqual({
      ok: false,
      error: 'the tool failed',
    });
    const throwing: ServerTool = {
      enabled: true,
      definition: { type: 'function', function: { name: 't' } },
      execute: () => {
        throw new ToolError('bad arguments');
      },
    };
    expect(await lastValueFrom(executeServerTool(throwing, {}, 1000))).toEqual({ ok: false, error: 'bad arguments' });
  });
});
