import { PendingFunctionCalls } from './pending-function-calls.js';
import type { ToolOutcome } from './tool-outcome.js';

describe('PendingFunctionCalls', () => {
  it('announces the call on subscribe and delivers its result once', () => {
    const calls = new PendingFunctionCalls();
    const announced: string[] = [];
    const outcomes: ToolOutcome[] = [];
    calls.wait('r1', 'c1', () => announced.push('c1')).subscribe((o) => outcomes.push(o));
    expect(announced).toEqual(['c1']);
    expect(calls.settle('r1', 'c1', { ok: true, result: 1 })).toBe(true);
    expect(calls.settle('r1', 'c1', { ok: true, result: 2 })).toBe(false);
    expect(outcomes).toEqual([{ ok: true, result: 1 }]);
  });

  it('ignores results for calls that were cancelled, or of another request', () => {
    const calls = new PendingFunctionCalls();
    const subscription = calls.wait('r1', 'c1', () => undefined).subscribe();
    expect(calls.settle('r2', 'c1', { ok: true, result: 1 })).toBe(false);
    subscription.unsubscribe();
    expect(calls.settle('r1', 'c1', { ok: true, result: 1 })).toBe(false);
  });

  it('keeps the calls of two requests apart when the model gave them the same call id', () => {
    const calls = new PendingFunctionCalls();
    const outcomes: [string, ToolOutcome][] = [];
    const first = calls.wait('r1', 'call_0', () => undefined).subscribe((o) => outcomes.push(['r1', o]));
    calls.wait('r2', 'call_0', () => undefined).subscribe((o) => outcomes.push(['r2', o]));
    // r1 is interrupted: r2's call, under the same call id, is still waiting.
    first.unsubscribe();
    expect(calls.settle('r1', 'call_0', { ok: true, result: 'stale' })).toBe(false);
    expect(calls.settle('r2', 'call_0', { ok: true, result: 'fresh' })).toBe(true);
    expect(outcomes).toEqual([['r2', { ok: true, result: 'fresh' }]]);
  });

  it('lets a call forget only its own entry', () => {
    const calls = new PendingFunctionCalls();
    const outcomes: ToolOutcome[] = [];
    const stale = calls.wait('r1', 'c1', () => undefined).subscribe();
    calls.wait('r1', 'c1', () => undefined).subscribe((o) => outcomes.push(o));
    stale.unsubscribe();
    expect(calls.settle('r1', 'c1', { ok: true, result: 1 })).toBe(true);
    expect(outcomes).toEqual([{ ok: true, result: 1 }]);
  });
});
