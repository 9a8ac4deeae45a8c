import { randomBytes } from 'node:crypto';
import type { FalseInterruption } from '@agent-gateway/protocol';
import type { PinoLogger } from 'nestjs-pino';
import type { InterruptService } from '../agent/interrupts.service.js';
import type { RequestRunner } from '../agent/request-runner.service.js';
import { GatewayError, toGatewayError } from '../common/gateway-error.js';
import type { AppConfig } from '../config/config.schema.js';
import type { RequestRegistry } from '../requests/request-registry.service.js';
import type { QueuedRequest } from '../session/outbound-frame.js';
import type { Session } from '../session/session.js';
import { createResampler } from '../audio/resampler.js';
import { ASR_SAMPLE_RATE } from '../asr/asr-provider.js';
import { BargeIn, type BargeInActions, type SpeakingReply } from './barge-in.js';
import { HandsFreeInput } from './hands-free-input.js';
import { PushToTalk } from './push-to-talk.js';
import type { VoiceEngines } from './voice-engines.service.js';
import { VoiceFrames } from './voice-frames.js';

export interface SessionVoiceDeps {
  engines: VoiceEngines;
  runner: RequestRunner;
  interrupts: InterruptService;
  registry: RequestRegistry;
  config: AppConfig;
  log: PinoLogger['logger'];
}

/**
 * One session's voice input: push-to-talk requests, the hands-free
 * microphone (created on its first audio), and the barge-in decisions over
 * the session's replies. Everything it starts ends with `close()`.
 */
export class SessionVoice {
  readonly pushToTalk: PushToTalk;
  private readonly frames: VoiceFrames;
  private readonly bargeIn: BargeIn;
  private handsFree?: Promise<HandsFreeInput>;
  /** How long each reply has been paused in all: its playback ends that much later. */
  private readonly pausedMs = new Map<string, number>();
  /** The replies paused now: since when, and their request while it had frames to hold. */
  private readonly paused = new Map<string, { at: number; handle?: QueuedRequest }>();
  private closed = false;

  constructor(
    private readonly session: Session,
    private readonly deps: SessionVoiceDeps,
  ) {
    this.frames = new VoiceFrames(session, deps.log);
    const { voice } = deps.config;
    this.bargeIn = new BargeIn(this.actions(), voice);
    const asr = deps.engines.asr.provider;
    if (!asr) throw new GatewayError('AUDIO_INPUT_DISABLED');
    this.pushToTalk = new PushToTalk({
      asr,
      language: this.language,
      maxUtteranceMs: voice.maxUtteranceMs,
      frames: this.frames,
      resampler: (rate) => createResampler(rate, ASR_SAMPLE_RATE),
      startRequest: (request, transcript$) =>
        deps.runner.start(
          session,
          { requestId: request.request_id, prompt: transcript$, requireTts: request.require_tts, durable: request.durable },
          { transport: 'ws' },
        ),
    });
  }

  private get language(): string {
    return this.deps.engines.language(this.session.prefs.audioInput);
  }

  /** The hands-free microphone, created once (its resampler loads asynchronously). */
  microphone(): Promise<HandsFreeInput> {
    this.handsFree ??= this.createHandsFree();
    return this.handsFree;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pushToTalk.close();
    this.bargeIn.close();
    void this.handsFree?.then((input) => input.close());
  }

  private async createHandsFree(): Promise<HandsFreeInput> {
    const { engines, config } = this.deps;
    const prefs = this.session.prefs.audioInput;
    const asr = engines.asr.provider;
    const vad = engines.vad.engine;
    if (!prefs || !asr || !vad) throw new GatewayError('AUDIO_INPUT_DISABLED');
    const resampler = await createResampler(prefs.audio_format.sample_rate, ASR_SAMPLE_RATE);
    const { vad: vadConfig, maxUtteranceMs } = config.voice;
    const input = new HandsFreeInput(resampler, vad.createDetector(), asr, this.bargeIn, this.frames, {
      segmenter: { frameMs: vad.descriptor.frameMs, startMs: vadConfig.startMs, silenceMs: vadConfig.silenceMs },
      prefixPaddingMs: vadConfig.prefixPaddingMs,
      maxUtteranceMs,
      language: this.language,
    });
    // Closed while the resampler loaded.
    if (this.closed) input.close();
    return input;
  }

  private actions(): BargeInActions {
    const { session } = this;
    const { registry, interrupts, runner, engines } = this.deps;
    const handleOf = (reply: SpeakingReply) => reply.handle as QueuedRequest | undefined;
    return {
      speaking: () => {
        const now = performance.now();
        const active = new Map(registry.listSession(session.id).map((request) => [request.id, request]));
        const queued = new Map([...session.requestsWithQueuedAudio()].map((request) => [request.id, request]));
        const replies: SpeakingReply[] = [];
        for (const [id, ledger] of session.speech.entries()) {
          const request = active.get(id) ?? queued.get(id);
          const playing = (ledger.playsUntil(this.pausedMs.get(id)) ?? 0) > now;
          if (request || playing) replies.push({ id, handle: request });
        }
        // Replies that do not speak are still the agent's turn.
        for (const [id, request] of active) if (!session.speech.get(id)) replies.push({ id, handle: request });
        return replies;
      },
      pause: (speechId, replies) => {
        session.send('PLAYBACK_PAUSE', { request_ids: replies.map((r) => r.id), speech_id: speechId }, { lane: 'urgent' });
        for (const reply of replies) {
          const handle = handleOf(reply);
          this.paused.set(reply.id, { at: performance.now(), handle });
          if (handle) session.holdAudio(handle);
        }
      },
      resume: (speechId, replies, reason: FalseInterruption) => {
        session.send('PLAYBACK_RESUME', { request_ids: replies.map((r) => r.id), speech_id: speechId, reason }, { lane: 'urgent' });
        engines.bargedIn(reason);
        this.release(replies);
      },
      agentText: (replies) => replies.map((reply) => session.speech.get(reply.id)?.recentText() ?? '').join(' '),
      // The last half minute of each: echo comes back within a second or two of being played.
      agentLoudness: (replies) => replies.flatMap((reply) => session.speech.get(reply.id)?.envelope.slice(-1500) ?? []),
      interrupt: () => {
        void interrupts.interrupt(session, { scope: 'session', reason: 'USER_SPEECH' }, performance.now(), 'voice');
        engines.bargedIn('interrupted');
        // Their held audio was dropped with them: nothing is left to hold.
        this.release([...this.paused].map(([id, { handle }]) => ({ id, handle })));
      },
      startTurn: (speechId, text) => {
        const requestId = `voice_${speechId}_${randomBytes(4).toString('hex')}`;
        try {
          runner.start(session, { requestId, prompt: text }, { transport: 'ws' });
          return requestId;
        } catch (error) {
          session.send('ERROR', toGatewayError(error).toPayload(requestId), { lane: 'control' });
          return undefined;
        }
      },
      classify: (text, heard) => engines.verdict(text, heard, this.language),
    };
  }

  private release(replies: SpeakingReply[]): void {
    const now = performance.now();
    for (const reply of replies) {
      const paused = this.paused.get(reply.id);
      if (paused) this.pausedMs.set(reply.id, (this.pausedMs.get(reply.id) ?? 0) + now - paused.at);
      this.paused.delete(reply.id);
      const handle = paused?.handle ?? (reply.handle as QueuedRequest | undefined);
      if (handle) this.session.releaseAudio(handle);
    }
    // Only recent replies can still be playing (the session keeps 16 ledgers).
    for (const id of this.pausedMs.keys()) if (!this.session.speech.get(id)) this.pausedMs.delete(id);
  }
}
