import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { type AsrDescriptor, AsrError, type AsrEvent, AsrProvider } from './asr-provider.js';

export interface PocketsphinxOptions {
  binary: string;
  /** Debian's pocketsphinx-en-us: `en-us/` (the acoustic model), `en-us.lm.bin`, `cmudict-en-us.dict`. */
  modelDir: string;
  /** The longest it may take to finish once the utterance is over. */
  timeoutMs: number;
}

const MAX_STDERR_CHARS = 500;

/**
 * CMU PocketSphinx, offline, one child process per utterance: the audio goes
 * in on stdin as it arrives (decoding overlaps the speech), each segment it
 * recognizes comes out as a line on stdout. Closing stdin ends the
 * utterance. Unsubscribing kills the process at once. It is a weak
 * recognizer (a small English model), here so that the gateway hears with no
 * keys; ASR_PROVIDER names the real ones.
 */
export class PocketsphinxProvider extends AsrProvider {
  readonly descriptor: AsrDescriptor = { provider: 'pocketsphinx', model: 'en-us' };

  constructor(private readonly options: PocketsphinxOptions) {
    super();
  }

  transcribe(audio$: Observable<Buffer>): Observable<AsrEvent> {
    const { binary, modelDir, timeoutMs } = this.options;
    return new Observable<AsrEvent>((subscriber) => {
      // pocketsphinx opens its -infile by name, and /dev/stdin cannot be opened on the socket Node gives a
      // child for stdin: `cat` turns it into a pipe. Both run in a process group of their own, which a
      // SIGTERM ends at once; the shell only traps it, so it reaps them (no zombie) and exits.
      const args = [
        ...['-infile', '/dev/stdin', '-logfn', '/dev/null'],
        ...['-hmm', join(modelDir, 'en-us'), '-lm', join(modelDir, 'en-us.lm.bin'), '-dict', join(modelDir, 'cmudict-en-us.dict')],
      ];
      const child = spawn('/bin/sh', ['-c', 'trap : TERM; cat | exec "$0" "$@"', binary, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      const segments: string[] = [];
      let stdout = '';
      let stderr = '';
      let exited = false;
      let timer: NodeJS.Timeout | undefined;
      const fail = (detail: string, cause?: unknown) => subscriber.error(new AsrError(detail, cause));

      child.once('error', (error) => fail(`cannot run ${binary}: ${error.message}`, error));
      child.stdin.once('error', () => undefined); // EPIPE when the process is killed mid-write
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < MAX_STDERR_CHARS) stderr += chunk;
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const lines = stdout.split('\n');
        stdout = lines.pop() ?? '';
        const heard = lines.map((line) => line.trim()).filter((line) => line.length > 0);
        if (heard.length === 0) return;
        segments.push(...heard);
        subscriber.next({ type: 'partial', text: segments.join(' ') });
      });
      child.once('close', (code, signal) => {
        exited = true;
        clearTimeout(timer);
        if (code !== 0) return fail(`${binary} exited with ${code ?? signal}: ${stderr.trim().slice(0, MAX_STDERR_CHARS)}`);
        if (stdout.trim()) segments.push(stdout.trim());
        subscriber.next({ type: 'final', text: segments.join(' ') });
        subscriber.complete();
      });

      const feed = audio$.subscribe({
        next: (chunk) => child.stdin.write(chunk),
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          child.stdin.end();
          timer = setTimeout(() => fail(`${binary} did not finish within ${timeoutMs} ms of the end of the speech`), timeoutMs);
        },
      });
      return () => {
        feed.unsubscribe();
        clearTimeout(timer);
        if (!exited && child.pid !== undefined) killGroup(child.pid);
      };
    });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/** Whether pocketsphinx and its English model are installed (the model's files are read by the process, not here). */
export async function probePocketsphinx(options: PocketsphinxOptions): Promise<void> {
  await access(join(options.modelDir, 'en-us.lm.bin'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(options.binary, ['-h'], { stdio: 'ignore' });
    child.once('error', (error) => reject(new Error(`cannot run ${options.binary}: ${error.message}`)));
    child.once('close', () => resolve());
  });
}
