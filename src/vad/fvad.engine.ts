import fvad from '@echogarden/fvad-wasm';
import { VAD_SAMPLE_RATE, type VadDescriptor, VadEngine, type VoiceDetector } from './vad-engine.js';

interface FvadModule {
  HEAP16: Int16Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _fvad_new(): number;
  _fvad_free(handle: number): void;
  _fvad_set_mode(handle: number, mode: number): number;
  _fvad_set_sample_rate(handle: number, rate: number): number;
  _fvad_process(handle: number, frame: number, samples: number): number;
}

const FRAME_MS = 20;
const FRAME_SAMPLES = (VAD_SAMPLE_RATE * FRAME_MS) / 1000;

/**
 * WebRTC's VAD (libfvad compiled to WebAssembly, its 20 KB module inside the
 * npm package): no model to download, no native build, a few microseconds
 * per 20 ms frame. One WebAssembly instance serves every session; each
 * session's detector is a few hundred bytes of its memory.
 */
export class FvadEngine extends VadEngine {
  readonly descriptor: VadDescriptor;

  private constructor(
    private readonly module: FvadModule,
    private readonly mode: number,
  ) {
    super();
    this.descriptor = { engine: 'webrtc-vad (libfvad, wasm)', frameMs: FRAME_MS, mode };
  }

  static async load(mode: number): Promise<FvadEngine> {
    return new FvadEngine((await fvad()) as FvadModule, mode);
  }

  createDetector(): VoiceDetector {
    const m = this.module;
    const handle = m._fvad_new();
    if (handle === 0) throw new Error('fvad_new failed');
    m._fvad_set_mode(handle, this.mode);
    m._fvad_set_sample_rate(handle, VAD_SAMPLE_RATE);
    const frame = m._malloc(FRAME_SAMPLES * 2);
    let closed = false;
    return {
      isSpeech(samples) {
        if (closed || samples.length !== FRAME_SAMPLES) return false;
        // HEAP16 is read each time: the module's memory may have grown (and been replaced) since.
        m.HEAP16.set(samples, frame >> 1);
        return m._fvad_process(handle, frame, FRAME_SAMPLES) === 1;
      },
      close() {
        if (closed) return;
        closed = true;
        m._free(frame);
        m._fvad_free(handle);
      },
    };
  }
}
