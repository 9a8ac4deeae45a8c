import { InboundScheduler } from './inbound-scheduler.js';

/** Synchronous work of `ms` milliseconds, as validating a large message is. */
const busyFor = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('InboundScheduler', () => {
  it('handles each connection’s messages in order, one at a time, even when they wait', async () => {
    const scheduler = new InboundScheduler(4);
    const log: string[] = [];
    const connection = {};
    let inFlight = 0;
    for (const [i, waitMs] of [20, 0, 5].entries()) {
      scheduler.enqueue(connection, async () => {
        inFlight += 1;
        expect(inFlight).toBe(1);
        log.push(`start ${i}`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        log.push(`end ${i}`);
        inFlight -= 1;
      });
    }
    // Timers fire late on a loaded machine: wait for the last message, not a fixed time.
    for (let waited = 0; waited < 5000 && log.length < 6; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('takes the connections in turn: a backlog does not delay another connection’s message', async () => {
    const scheduler = new InboundScheduler(1000);
    const log: string[] = [];
    const flooder = {};
    const other = {};
    for (let i = 0; i < 50; i++) scheduler.enqueue(flooder, async () => void log.push('flood'));
    scheduler.enqueue(other, async () => void log.push('other'));
    await settle();
    expect(log.indexOf('other')).toBe(1);
  });

  it('yields to the event loop once a turn has spent its slice, so sockets are read meanwhile', async () => {
    const scheduler = new InboundScheduler(4);
    const log: string[] = [];
    const flooder = {};
    for (let i = 0; i < 20; i++) {
      scheduler.enqueue(flooder, async () => {
        busyFor(2);
        log.push('message');
      });
    }
    // Stands for another socket's read, due on the next turn of the loop.
    setImmediate(() => log.push('I/O'));
    await settle();
    // A slice of 4 ms holds two or three 2 ms messages, not the twenty.
    expect(log.indexOf('I/O')).toBeGreaterThan(0);
    expect(log.indexOf('I/O')).toBeLessThanOrEqual(3);
  });

  it('lets one connection wait for I/O without holding up the others', async () => {
    const scheduler = new InboundScheduler(4);
    const log: string[] = [];
    let release!: () => void;
    scheduler.enqueue({}, () => new Promise<void>((resolve) => (release = resolve)).then(() => void log.push('slow')));
    const other = {};
    for (let i = 0; i < 3; i++) scheduler.enqueue(other, async () => void log.push('fast'));
    await settle();
    expect(log).toEqual(['fast', 'fast', 'fast']);
    release();
    await settle();
    expect(log).toEqual(['fast', 'fast', 'fast', 'slow']);
  });

  it('drops what a forgotten connection still had queued, and survives a task that throws', async () => {
    const scheduler = new InboundScheduler(4);
    const log: string[] = [];
    const gone = {};
    scheduler.enqueue(gone, () => Promise.reject(new Error('boom')));
    scheduler.enqueue(gone, async () => void log.push('after close'));
    scheduler.forget(gone);
    const other = {};
    scheduler.enqueue(other, async () => void log.push('other'));
    await settle();
    expect(log).toEqual(['other']);
  });
});
