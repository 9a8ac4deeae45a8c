import { spawn } from 'node:child_process';
import { Observable } from 'rxjs';
import { Reader as WavReader, type Format as WavFormat } from 'wav';
import { failOnSilence } from './fail-on-silence.js';
import { type FlowControl, type SynthesisRequest, type TtsDescriptor, TtsError, TtsProvider } from './tts-provider.js';

export interface EspeakOptions {
  binary: string;
  /** An espeak-ng voice; by default `cmn` for Chinese text and `en-us` otherwise. */
  voice?: string;
  /** The longest silence, until the first audio and between two pieces of it (while the client takes audio). */
  timeoutMs: number;
  /** Sample rate of the voices, as read from a probe (espeak-ng's own voices speak at 22050 Hz). */
  sampleRate: number;
}

const MAX_STDERR_CHARS = 500;

/**
 * The local espeak-ng engine, one child process per segment: the text goes in
 * on stdin (never on the command line), WAV comes out on stdout and `wav`'s
 * Reader strips its header. Unsubscribing kills the process with SIGKILL;
 * Node reaps it, so no zombie is left.
 */
export class EspeakProvider extends TtsProvider {
  readonly descriptor: TtsDescriptor;

  constructor(private readonly options: EspeakOptions) {
    super();
    this.descriptor = {
      provider: 'espeak',
      voice: options.voice ?? 'auto',
      format: { codec: 'pcm_s16le', sample_rate: options.sampleRate, channels: 1 },
    };
  }

  synthesize({ text, language }: SynthesisRequest, flow: FlowControl): Observable<Buffer> {
    const { timeoutMs } = this.options;
    return new Observable<Buffer>((subscriber) => {
      const voice = this.options.voice ?? (language === 'zh' ? 'cmn' : 'en-us');
      const child = spawn(this.options.binary, ['--stdout', '-v', voice], { stdio: ['pipe', 'pipe', 'pipe'] });
      const wav = new WavReader();
      let stderr = '';
      let exited = false;
      const fail = (detail: string, cause?: unknown) => subscriber.error(new TtsError(detail, cause));

      child.once('error', (error) => fail(`cannot run ${this.options.binary}: ${error.message}`, error));
      child.stdin.once('error', () => undefined); // EPIPE when the process is killed mid-write
      child.stdin.end(text);
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < MAX_STDERR_CHARS) stderr += chunk;
      });
      wav.once('format', (format: WavFormat) => {
        if (format.sampleRate !== this.options.sampleRate || format.bitDepth !== 16 || format.channels !== 1) {
          fail(`voice ${voice} speaks ${format.sampleRate} Hz ${format.bitDepth}-bit x${format.channels}, not the probed format`);
        }
      });
      wav.on('data', (pcm: Buffer) => subscriber.next(pcm));
      wav.once('error', (error: Error) => fail(`espeak-ng wrote invalid WAV: ${error.message}`, error));
      child.stdout.pipe(wav);
      // Done when the process has exited cleanly and every sample has been read
      // out of the (possibly paused) reader, in whichever order those happen.
      let pending = 2;
      const settle = () => {
        pending -= 1;
        if (pending === 0) subscriber.complete();
      };
      wav.once('end', settle);
      child.once('close', (code, signal) => {
        exited = true;
        if (code === 0) settle();
        else fail(`espeak-ng exited with ${code ?? signal}: ${stderr.trim().slice(0, MAX_STDERR_CHARS)}`);
      });

      const flowSubscription = flow.paused$.subscribe((paused) => (paused ? wav.pause() : wav.resume()));
      return () => {
        flowSubscription.unsubscribe();
        if (!exited) child.kill('SIGKILL');
      };
    }).pipe(
      failOnSilence({ ms: timeoutMs, paused$: flow.paused$, error: () => new TtsError(`espeak-ng produced no audio for ${timeoutMs} ms`) }),
    );
  }
}

/**
 * Runs espeak-ng once on a short text: tells whether it is installed and
 * works, and at which sample rate its voices speak.
 */
export async function probeEspeak(binary: string, timeoutMs: number): Promise<{ sampleRate: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--stdout', '-v', 'en-us'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const wav = new WavReader();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${binary} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binary}: ${error.message}`));
    });
    child.stdin.once('error', () => undefined);
    child.stdin.end('ok');
    wav.once('format', (format: WavFormat) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (format.bitDepth === 16 && format.channels === 1) resolve({ sampleRate: format.sampleRate });
      else reject(new Error(`${binary} speaks ${format.bitDepth}-bit x${format.channels}, expected 16-bit mono`));
    });
    wav.once('error', (error: Error) => reject(new Error(`${binary} wrote invalid WAV: ${error.message}`)));
    wav.resume();
    child.stdout.pipe(wav);
  });
}
