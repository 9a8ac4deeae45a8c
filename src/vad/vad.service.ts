import type { VadEngine } from './vad-engine.js';

/** The voice activity detector, or why there is none (then hands-free input is off). */
export class VadService {
  constructor(
    readonly engine: VadEngine | null,
    readonly reason: string | undefined,
  ) {}
}
