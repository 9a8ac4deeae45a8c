import { spawn } from 'node:child_process';
import { Reader as WavReader, type Format as WavFormat } from 'wav';
import { encodeInputAudioFrame } from '@agent-gateway/protocol';
import { sleep, type TestClient } from './test-client.js';
import { own } from './test-resources.js';

/** espeak-ng's voices speak at this rate: the tests register it as their microphone's, so the gateway resamples. */
export const SPEECH_RATE = 22_050;

/** The user's speech, synthesized by espeak-ng (a real voice for the VAD and the recognizer). */
export function speak(text: string, voice = 'en-us'): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    const child = spawn('espeak-ng', ['--stdout', '-v', voice], { stdio: ['pipe', 'pipe', 'ignore'] });
    const release = own(() => {
      child.kill('SIGKILL');
    });
    const wav = new WavReader();
    const chunks: Buffer[] = [];
    wav.once('format', (format: WavFormat) => {
      if (format.sampleRate !== SPEECH_RATE) reject(new Error(`espeak-ng spoke at ${format.sampleRate} Hz`));
    });
    wav.on('data', (chunk: Buffer) => chunks.push(chunk));
    wav.once('end', () => {
      release();
      const bytes = Buffer.concat(chunks);
      const samples = new Int16Array(bytes.length / 2);
      new Uint8Array(samples.buffer).set(bytes.subarray(0, samples.length * 2));
      resolve(samples);
    });
    child.once('error', reject);
    child.stdout.pipe(wav);
    child.stdin.end(text);
  });
}

export function silence(ms: number, rate = SPEECH_RATE): Int16Array {
  return new Int16Array(Math.round((rate * ms) / 1000));
}

/** White noise: a cough, a door, a keyboard. */
export function noise(ms: number, amplitude = 8000, rate = SPEECH_RATE): Int16Array {
  return Int16Array.from({ length: Math.round((rate * ms) / 1000) }, () => Math.round((Math.random() * 2 - 1) * amplitude));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function bytesOf(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

/**
 * Streams samples as a microphone does: 20 ms chunks at real time (paced
 * against the clock, so a slow turn does not accumulate), as AUDIO messages
 * or binary frames of kind 0x02. Resolves once all is sent.
 */
export async function streamMicrophone(
  client: TestClient,
  samples: Int16Array,
  { rate = SPEECH_RATE, chunkMs = 20, binary = false, speed = 1 } = {},
): Promise<void> {
  const perChunk = Math.round((rate * chunkMs) / 1000);
  const startedAt = performance.now();
  for (let at = 0, index = 0; at < samples.length; at += perChunk, index++) {
    const chunk = bytesOf(samples.subarray(at, at + perChunk));
    if (binary) client.sendRaw(Buffer.from(encodeInputAudioFrame(chunk)));
    else client.send('AUDIO', { content: { audio: chunk.toString('base64') } });
    const due = startedAt + ((index + 1) * chunkMs) / speed;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
}
