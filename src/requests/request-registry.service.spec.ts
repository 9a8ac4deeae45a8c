import { Subject, takeUntil } from 'rxjs';
import { GatewayError } from '../common/gateway-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { Cancellation, RequestOwner } from './active-request.js';
import { RequestRegistry } from './request-registry.service.js';

const owner = (sessionId: string): RequestOwner => ({ sessionId, userId: 'u', transport: 'ws' });
const stop = (reason = 'USER'): Cancellation => ({ reason, source: 'client', receivedAt: performance.now() });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as GatewayError).code;
  }
  return undefined;
};

describe('RequestRegistry', () => {
  let registry: RequestRegistry;
  beforeEach(() => {
    registry = new RequestRegistry(new MetricsService());
  });

  it('scopes request ids to their session', () => {
    const a = registry.register('r1', owner('A'), 4);
    const b = registry.register('r1', owner('B'), 4);
    expect(registry.find('A', 'r1')).toBe(a);
    expect(registry.find('B', 'r1')).toBe(b);
    expect(registry.size).toBe(2);
    expect(registry.cancel({ sessionId: 'B', requestId: 'r1' }, stop())).toEqual([b]);
    expect(a.cancellation).toBeUndefined();
  });

  it('refuses a duplicate active id and enforces the per-session limit', () => {
    registry.register('r1', owner('A'), 2);
    expect(codeOf(() => registry.register('r1', owner('A'), 2))).toBe('DUPLICATE_REQUEST');
    registry.register('r2', owner('A'), 2);
    expect(codeOf(() => registry.register('r3', owner('A'), 2))).toBe('TOO_MANY_REQUESTS');
    expect(codeOf(() => registry.register('r3', owner('B'), 2))).toBeUndefined();
  });

  it('frees an id and a slot on release, and ignores a stale release', () => {
    const first = registry.register('r1', owner('A'), 1);
    registry.release(first);
    const second = registry.register('r1', owner('A'), 1);
    registry.release(first);
    expect(registry.find('A', 'r1')).toBe(second);
    registry.release(second);
    expect(registry.size).toBe(0);
    expect(registry.list()).toEqual([]);
  });

  it('cancels once: the first reason wins and a second cancel stops nothing', () => {
    const request = registry.register('r1', owner('A'), 4);
    expect(registry.cancel({ sessionId: 'A', requestId: 'r1' }, stop('FIRST'))).toEqual([request]);
    expect(registry.cancel({ sessionId: 'A', requestId: 'r1' }, stop('SECOND'))).toEqual([]);
    expect(request.cancellation?.reason).toBe('FIRST');
  });

  it('cancels every request of a session when no id is given', () => {
    const r1 = registry.register('r1', owner('A'), 4);
    const r2 = registry.register('r2', owner('A'), 4);
    const other = registry.register('r1', owner('B'), 4);
    expect(registry.cancel({ sessionId: 'A' }, stop())).toEqual([r1, r2]);
    expect(other.cancellation).toBeUndefined();
  });

  it('tears down a pipeline through takeUntil, even one subscribed after the cancel', () => {
    const request = registry.register('r1', owner('A'), 4);
    const source = new Subject<number>();
    const seen: number[] = [];
    let completed = false;
    source.pipe(takeUntil(request.cancelled$)).subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
    source.next(1);
    request.cancel(stop());
    source.next(2);
    expect(seen).toEqual([1]);
    expect(completed).toBe(true);
    expect(source.observed).toBe(false);

    let lateRan = false;
    source.pipe(takeUntil(request.cancelled$)).subscribe(() => (lateRan = true));
    source.next(3);
    expect(lateRan).toBe(false);
  });
});
