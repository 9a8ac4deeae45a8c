import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Observable, Subscription } from 'rxjs';
import WebSocket, { type RawData } from 'ws';
import { scrubSecrets } from '../common/scrub-secrets.js';
import { failOnSilence } from './fail-on-silence.js';
import { type FlowControl, type SynthesisRequest, type TtsDescriptor, TtsError, TtsProvider } from './tts-provider.js';

export interface DashScopeCosyVoiceOptions {
  /** e.g. `wss://dashscope.aliyuncs.com/api-ws/v1/inference/` */
  url: string;
  /** Sent as `Authorization: bearer …`; empty sends no header (a proxy adds it). */
  apiKey: string;
  model: string;
  voice: string;
  format: 'pcm' | 'mp3' | 'opus' | 'wav';
  sampleRate: number;
  /** The longest silence: until the first audio frame, and between two (while the client takes audio). */
  timeoutMs: number;
}

/** What DashScope sends as text frames; only the header matters to us. */
interface DashScopeEvent {
  header?: { event?: string; error_code?: string; error_message?: string };
}

/**
 * Alibaba DashScope CosyVoice over its duplex WebSocket protocol: one socket
 * and one task per `synthesize()`, audio arriving as binary frames. The
 * Observable's teardown terminates the socket — the TCP close is what makes
 * DashScope stop synthesizing (and billing) — instead of a polite
 * finish-task, which would let it speak the whole text first.
 */
export class DashScopeCosyVoiceProvider extends TtsProvider {
  readonly descriptor: TtsDescriptor;

  constructor(private readonly options: DashScopeCosyVoiceOptions) {
    super();
    const { format, sampleRate, voice } = options;
    this.descriptor = {
      provider: 'dashscope',
      voice,
      format: { codec: format === 'pcm' ? 'pcm_s16le' : format, sample_rate: sampleRate, channels: 1 },
    };
  }

  synthesize(request: SynthesisRequest, flow: FlowControl): Observable<Buffer> {
    const { url, apiKey, timeoutMs } = this.options;
    return new Observable<Buffer>((subscriber) => {
      const taskId = randomUUID();
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, { headers: apiKey ? { Authorization: `bearer ${apiKey}` } : {} });
      } catch (error) {
        subscriber.error(new TtsError(`cannot open ${url}: ${messageOf(error)}`, error));
        return;
      }

      let settled = false;
      let paused = false;
      const flowSubscription = new Subscription();

      const cleanUp = () => {
        settled = true;
        flowSubscription.unsubscribe();
      };
      // Resumed first: a socket left paused could not read the server's
      // closing frame and would hang on until ws's 30 s close timeout.
      const closeNormally = () => {
        socket.resume();
        socket.close(1000);
      };
      const fail = (error: TtsError, terminate: boolean) => {
        if (settled) return;
        cleanUp();
        if (terminate) socket.terminate();
        else closeNormally();
        subscriber.error(error);
      };
      // pause()/resume() are no-ops while the handshake runs, so the wish is
      // kept and applied again once the socket is open.
      const applyFlow = () => (paused ? socket.pause() : socket.resume());

      socket.on('open', () => {
        applyFlow();
        this.send(socket, 'run-task', taskId, {
          task_group: 'audio',
          task: 'tts',
          function: 'SpeechSynthesizer',
          model: this.options.model,
          parameters: {
            text_type: 'PlainText',
            voice: this.options.voice,
            format: this.options.format,
            sample_rate: this.options.sampleRate,
            volume: 50,
            rate: 1,
            pitch: 1,
          },
          input: {},
        });
      });

      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (settled) return;
        if (isBinary) {
          subscriber.next(toBuffer(data));
          return;
        }
        let event: DashScopeEvent;
        try {
          event = JSON.parse(toBuffer(data).toString('utf8')) as DashScopeEvent;
        } catch (error) {
          fail(new TtsError(`DashScope sent a text frame that is not JSON: ${messageOf(error)}`, error), true);
          return;
        }
        switch (event.header?.event) {
          case 'task-started':
            // Duplex mode takes text in pieces; we have the whole sentence, so
            // it is sent at once and the task closed right behind it.
            this.send(socket, 'continue-task', taskId, { input: { text: request.text } });
            this.send(socket, 'finish-task', taskId, { input: {} });
            break;
          case 'task-finished':
            cleanUp();
            closeNormally();
            subscriber.complete();
            break;
          case 'task-failed': {
            const { error_code: code, error_message: message } = event.header;
            fail(new TtsError(`DashScope task-failed: ${code}: ${scrubSecrets(String(message), [apiKey])}`), false);
            break;
          }
          // result-generated (and anything newer) carries nothing we need.
        }
      });

      socket.on('unexpected-response', (_req, res: IncomingMessage) => {
        // With this listener ws leaves the failed handshake to us; terminate aborts it.
        fail(new TtsError(`DashScope handshake rejected: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`), true);
      });

      // Kept for the socket's whole life, after teardown too: terminate() on a
      // connecting socket emits 'error', and an unheard 'error' would throw.
      socket.on('error', (error: unknown) => {
        fail(new TtsError(`DashScope socket error: ${messageOf(error)}`, error), true);
      });

      socket.on('close', (code: number, reason: Buffer) => {
        fail(new TtsError(`DashScope socket closed before task-finished: ${code} ${reason.toString()}`), true);
      });

      flowSubscription.add(
        flow.paused$.subscribe((value) => {
          paused = value;
          applyFlow();
        }),
      );

      // Unsubscribed before the end: the interrupt, or a silence too long. No
      // finish-task, no close handshake to wait for; the TCP reset is what stops DashScope.
      return () => {
        if (settled) return;
        cleanUp();
        socket.terminate();
      };
    }).pipe(
      failOnSilence({ ms: timeoutMs, paused$: flow.paused$, error: () => new TtsError(`no audio from DashScope for ${timeoutMs} ms`) }),
    );
  }

  private send(socket: WebSocket, action: string, taskId: string, payload: Record<string, unknown>): void {
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
