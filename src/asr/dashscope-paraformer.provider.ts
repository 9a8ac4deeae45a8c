import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Observable, Subscription } from 'rxjs';
import WebSocket, { type RawData } from 'ws';
import { scrubSecrets } from '../common/scrub-secrets.js';
import { ASR_SAMPLE_RATE, type AsrDescriptor, AsrError, type AsrEvent, AsrProvider, type RecognitionRequest } from './asr-provider.js';

export interface DashScopeParaformerOptions {
  /** e.g. `wss://dashscope.aliyuncs.com/api-ws/v1/inference/` */
  url: string;
  /** Sent as `Authorization: bearer …`; empty sends no header (a proxy adds it). */
  apiKey: string;
  /** e.g. `paraformer-realtime-v2` (the one that takes language_hints and any sample rate). */
  model: string;
  /**
   * The longest wait for the server: until task-started, and once the
   * utterance is over, until task-finished and between two of its events.
   * While the user speaks the server may rightly say nothing.
   */
  timeoutMs: number;
}

/** The part of DashScope's text frames that we read. */
interface DashScopeEvent {
  header?: { event?: string; error_code?: string; error_message?: string };
  payload?: { output?: { sentence?: DashScopeSentence | null } };
}

interface DashScopeSentence {
  text?: unknown;
  sentence_end?: unknown;
  /** Keep-alive results carry no text. */
  heartbeat?: unknown;
}

/** Languages whose sentences follow one another without a space. */
const UNSPACED_LANGUAGES = new Set(['zh', 'yue', 'ja']);

/**
 * Alibaba DashScope Paraformer realtime recognition over the duplex
 * WebSocket protocol CosyVoice speaks: one socket and one task per
 * utterance, the audio sent as binary frames while it is spoken, so
 * recognition overlaps the speech. The Observable's teardown terminates the
 * socket — the TCP close is what makes DashScope stop recognizing (and
 * billing) — rather than a polite finish-task it would answer first.
 */
export class DashScopeParaformerProvider extends AsrProvider {
  readonly descriptor: AsrDescriptor;

  constructor(private readonly options: DashScopeParaformerOptions) {
    super();
    this.descriptor = { provider: 'dashscope', model: options.model };
  }

  transcribe(audio$: Observable<Buffer>, { language }: RecognitionRequest): Observable<AsrEvent> {
    const { url, apiKey, model, timeoutMs } = this.options;
    return new Observable<AsrEvent>((subscriber) => {
      const taskId = randomUUID();
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, { headers: apiKey ? { Authorization: `bearer ${apiKey}` } : {} });
      } catch (error) {
        subscriber.error(new AsrError(`cannot open ${url}: ${messageOf(error)}`, error));
        return;
      }

      // `en-US` is hinted as `en`: DashScope knows languages, not regions.
      const hint = language.split('-')[0].toLowerCase();
      const separator = UNSPACED_LANGUAGES.has(hint) ? '' : ' ';
      const sentences: string[] = [];
      /** Audio that came before task-started, which DashScope refuses until then. */
      const pending: Buffer[] = [];
      let started = false;
      let audioEnded = false;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const audioSubscription = new Subscription();

      const waitForServer = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(new AsrError(`no answer from DashScope for ${timeoutMs} ms`), true), timeoutMs);
      };
      const cleanUp = () => {
        settled = true;
        clearTimeout(timer);
        audioSubscription.unsubscribe();
      };
      const fail = (error: unknown, terminate: boolean) => {
        if (settled) return;
        cleanUp();
        if (terminate) socket.terminate();
        else socket.close(1000);
        subscriber.error(error);
      };
      const sendAudio = (chunk: Buffer) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(chunk, { binary: true });
      };
      const finishTask = () => {
        this.send(socket, 'finish-task', taskId, { input: {} });
        waitForServer();
      };
      const text = (current?: string) => [...sentences, ...(current ? [current] : [])].join(separator);

      socket.on('open', () => {
        this.send(socket, 'run-task', taskId, {
          task_group: 'audio',
          task: 'asr',
          function: 'recognition',
          model,
          parameters: { format: 'pcm', sample_rate: ASR_SAMPLE_RATE, ...(hint && { language_hints: [hint] }) },
          input: {},
        });
      });

      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (settled || isBinary) return;
        let event: DashScopeEvent;
        try {
          event = JSON.parse(toBuffer(data).toString('utf8')) as DashScopeEvent;
        } catch (error) {
          fail(new AsrError(`DashScope sent a text frame that is not JSON: ${messageOf(error)}`, error), true);
          return;
        }
        // Once the utterance is over the clock runs between two events.
        if (audioEnded && started) waitForServer();
        switch (event.header?.event) {
          case 'task-started':
            started = true;
            for (const chunk of pending.splice(0)) sendAudio(chunk);
            if (audioEnded) finishTask();
            else clearTimeout(timer);
            break;
          case 'result-generated': {
            const sentence = event.payload?.output?.sentence;
            if (!sentence || sentence.heartbeat === true || typeof sentence.text !== 'string') break;
            // A sentence ends with its full text; an empty one (silence) adds nothing.
            if (sentence.sentence_end === true) {
              if (!sentence.text) break;
              sentences.push(sentence.text);
            }
            subscriber.next({ type: 'partial', text: text(sentence.sentence_end === true ? undefined : sentence.text) });
            break;
          }
          case 'task-finished':
            cleanUp();
            socket.close(1000);
            subscriber.next({ type: 'final', text: text() });
            subscriber.complete();
            break;
          case 'task-failed': {
            const { error_code: code, error_message: message } = event.header;
            fail(new AsrError(`DashScope task-failed: ${code}: ${scrubSecrets(String(message), [apiKey])}`), false);
            break;
          }
        }
      });

      socket.on('unexpected-response', (_req, res: IncomingMessage) => {
        // With this listener ws leaves the failed handshake to us; terminate aborts it.
        fail(new AsrError(`DashScope handshake rejected: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`), true);
      });

      // Kept for the socket's whole life, after teardown too: terminate() on a
      // connecting socket emits 'error', and an unheard 'error' would throw.
      socket.on('error', (error: unknown) => {
        fail(new AsrError(`DashScope socket error: ${messageOf(error)}`, error), true);
      });

      socket.on('close', (code: number, reason: Buffer) => {
        fail(new AsrError(`DashScope socket closed before task-finished: ${code} ${reason.toString()}`), true);
      });

      waitForServer(); // until task-started
      audioSubscription.add(
        audio$.subscribe({
          next: (chunk) => {
            if (started) sendAudio(chunk);
            else pending.push(chunk);
          },
          // Not the recognizer's failure: the caller's own error goes back to it unchanged.
          error: (error: unknown) => fail(error, true),
          complete: () => {
            audioEnded = true;
            // Before task-started the clock runs already, and finish-task follows the pending audio.
            if (started) finishTask();
          },
        }),
      );

      // Unsubscribed before the end: no finish-task, no close handshake to
      // wait for; the TCP reset is what stops DashScope.
      return () => {
        if (settled) return;
        cleanUp();
        socket.terminate();
      };
    });
  }

  private send(socket: WebSocket, action: string, taskId: string, payload: Record<string, unknown>): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ header: { action, task_id: taskId, streaming: 'duplex' }, payload }));
  }
}

/** With the default `binaryType` ws hands out Buffers; the other shapes are for completeness. */
function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Duck-typed: errors from `ws` may come from another realm under jest, where `instanceof Error` is false. */
function messageOf(error: unknown): string {
  const { message } = (error ?? {}) as { message?: unknown };
  return typeof message === 'string' ? message : String(error);
}
