import { abortQuietly } from './abort-quietly.js';

describe('abortQuietly', () => {
  it('aborts, and what the listeners make in the meantime carries no stack frames', () => {
    const controller = new AbortController();
    let made: Error | undefined;
    controller.signal.addEventListener('abort', () => (made = new Error('torn down')));
    abortQuietly(controller);
    expect(controller.signal.aborted).toBe(true);
    expect(made?.stack?.split('\n')).toEqual(['Error: torn down']);
    expect(new Error('later').stack?.split('\n').length).toBeGreaterThan(1);
  });
});
