import type { ReplyFrame } from '../../src/index.js';

/** The text of a reply's frames, in order. */
export function textOf(frames: ReplyFrame[]): string {
  return frames.map((frame) => (frame.kind === 'text' ? frame.text : '')).join('');
}

/** The text_stream_seq of each text frame. */
export function textIndexes(frames: ReplyFrame[]): number[] {
  return frames.flatMap((frame) => (frame.kind === 'text' ? [frame.index] : []));
}
