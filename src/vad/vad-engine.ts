/** Says of each frame of 16 kHz audio whether it holds speech; one per audio stream (it keeps state). */
export interface VoiceDetector {
  isSpeech(frame: Int16Array): boolean;
  close(): void;
}

export interface VadDescriptor {
  engine: string;
  /** The frame it reads, in milliseconds of 16 kHz audio. */
  frameMs: number;
  mode: number;
}

/** A voice activity detector that runs in process. */
export abstract class VadEngine {
  abstract readonly descriptor: VadDescriptor;
  abstract createDetector(): VoiceDetector;
}

export const VAD_SAMPLE_RATE = 16_000;
