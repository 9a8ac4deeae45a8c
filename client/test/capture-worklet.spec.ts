import { runInNewContext } from 'node:vm';
import { CAPTURE_PROCESSOR, CAPTURE_WORKLET_SOURCE } from '../src/audio/capture-worklet.js';

interface Processor {
  process(inputs: Float32Array[][]): boolean;
}

/**
 * The capture worklet's module, run in a global scope of its own as the
 * browser's AudioWorkletGlobalScope would run it: its processor registered, constructed with the node's
 * options, fed render quanta of 128 frames; what it posts is transferred
 * (structuredClone with `transfer` detaches the buffer, as postMessage does).
 */
function loadProcessor(batchFrames: number): { processor: Processor; posted: Float32Array[] } {
  const posted: Float32Array[] = [];
  const registered = new Map<string, new (options: unknown) => Processor>();
  class AudioWorkletProcessor {
    readonly port = {
      postMessage: (message: Float32Array, transfer: ArrayBuffer[]) => posted.push(structuredClone(message, { transfer })),
    };
  }
  const registerProcessor = (name: string, processor: new (options: unknown) => Processor) => registered.set(name, processor);
  runInNewContext(CAPTURE_WORKLET_SOURCE, { AudioWorkletProcessor, registerProcessor });
  const Registered = registered.get(CAPTURE_PROCESSOR);
  if (!Registered) throw new Error(`the module registered no ${CAPTURE_PROCESSOR}`);
  return { processor: new Registered({ processorOptions: { batchFrames } }), posted };
}

const quantum = (from: number) => Float32Array.from({ length: 128 }, (_, i) => from + i);

describe('the capture worklet', () => {
  it('posts every sample, in order, in batches of the size asked for, batch after batch', () => {
    const { processor, posted } = loadProcessor(882);
    for (let q = 0; q < 50; q++) expect(processor.process([[quantum(q * 128)]])).toBe(true);
    // 6400 samples: 7 whole batches of 882.
    expect(posted.map((batch) => batch.length)).toEqual(Array(7).fill(882));
    expect(posted.flatMap((batch) => [...batch])).toEqual(Array.from({ length: 7 * 882 }, (_, i) => i));
  });

  it('keeps running with no input connected (an empty input list)', () => {
    const { processor, posted } = loadProcessor(256);
    expect(processor.process([[]])).toBe(true);
    expect(processor.process([])).toBe(true);
    expect(posted).toEqual([]);
  });
});
