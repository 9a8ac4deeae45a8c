import { FrameBatch } from './frame-batch.js';

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('FrameBatch', () => {
  it('writes the frames added in one burst once, in order, before the next turn of the event loop', async () => {
    const writes: string[] = [];
    const batch = new FrameBatch((data) => writes.push(data));
    batch.add('a');
    batch.add('b');
    batch.add('c');
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual(['abc']);
    batch.add('d');
    await tick();
    expect(writes).toEqual(['abc', 'd']);
  });

  it('flushes at once when told, and then has nothing left for the queued turn', async () => {
    const writes: string[] = [];
    const batch = new FrameBatch((data) => writes.push(data));
    batch.add('a');
    batch.flush();
    writes.push('end');
    await tick();
    expect(writes).toEqual(['a', 'end']);
  });

  it('writes nothing for an empty burst', async () => {
    const writes: string[] = [];
    const batch = new FrameBatch((data) => writes.push(data));
    batch.flush();
    await tick();
    expect(writes).toEqual([]);
  });
});
