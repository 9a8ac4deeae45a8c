import { once } from 'node:events';
import { Writer as WavWriter } from 'wav';

/**
 * The 44-byte RIFF header, by `wav`'s Writer, for mono s16le PCM. The Writer
 * streams a header with a placeholder length first (it cannot know the
 * length up front) and only emits the true one, as `header`, once it has seen
 * all the audio: that one is kept, the streamed bytes are dropped.
 */
export async function wavHeader(pcm: Buffer, sampleRate: number): Promise<Buffer> {
  const writer = new WavWriter({ channels: 1, sampleRate, bitDepth: 16 });
  const header = once(writer, 'header') as Promise<[Buffer]>;
  writer.resume();
  writer.end(pcm);
  const [bytes] = await header;
  return bytes;
}
