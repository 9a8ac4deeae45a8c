import type { InputAudioFrame, ParsedClientPayloads } from '@agent-gateway/protocol';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { InterruptService } from '../agent/interrupts.service.js';
import { RequestRunner } from '../agent/request-runner.service.js';
import { base64Bytes, pcmSamples } from '../audio/pcm.js';
import { GatewayError } from '../common/gateway-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { Session } from '../session/session.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionVoice } from './session-voice.js';
import { VoiceEngines } from './voice-engines.service.js';

type AudioRequest = Extract<ParsedClientPayloads['REQUEST'], { data_type: 'AUDIO' }>;

/**
 * Voice input for every session: push-to-talk REQUESTs, the hands-free
 * microphone (AUDIO messages, binary frames of kind 0x02), and barge-in. A
 * session's voice state lives from its first audio to its last socket
 * closing (or its end), when every recognizer it runs is killed.
 */
@Injectable()
export class VoiceService implements OnModuleInit {
  private readonly voices = new Map<string, SessionVoice>();

  constructor(
    private readonly engines: VoiceEngines,
    private readonly runner: RequestRunner,
    private readonly interrupts: InterruptService,
    private readonly registry: RequestRegistry,
    private readonly lifecycle: SessionLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(VoiceService.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    this.lifecycle.lastSocketClosed$.subscribe(({ session }) => this.close(session.id));
    this.lifecycle.ended$.subscribe(({ session }) => this.close(session.id));
  }

  /** REQUEST with data_type AUDIO: a push-to-talk turn, START … END. */
  audioRequest(session: Session, request: AudioRequest): Promise<void> {
    this.refuseUnless(session, 'manual', request.request_id);
    return this.voiceOf(session).pushToTalk.handle(request, this.inputRate(session));
  }

  /** AUDIO, or a binary frame of microphone audio: hands-free, or (a binary frame naming a request) a push-to-talk chunk. */
  async audio(session: Session, payload: ParsedClientPayloads['AUDIO'] | undefined, frame: InputAudioFrame | undefined): Promise<void> {
    if (frame?.requestId !== undefined) {
      this.refuseUnless(session, 'manual', frame.requestId);
      this.voiceOf(session).pushToTalk.binaryChunk(frame.requestId, frame.streamSeq, frame.audio);
      return;
    }
    this.refuseUnless(session, 'server_vad');
    const samples = pcmSamples(frame ? frame.audio : base64Bytes(payload?.content.audio ?? ''));
    (await this.voiceOf(session).microphone()).push(samples, this.inputRate(session));
  }

  private refuseUnless(session: Session, mode: 'server_vad' | 'manual', requestId?: string): void {
    const reason = this.engines.refusal(session.prefs.audioInput, mode === 'manual' ? undefined : mode);
    if (reason) throw new GatewayError('AUDIO_INPUT_DISABLED', { requestId, message: `This session takes no such audio: ${reason}` });
  }

  private inputRate(session: Session): number {
    return session.prefs.audioInput?.audio_format.sample_rate ?? 16_000;
  }

  private voiceOf(session: Session): SessionVoice {
    let voice = this.voices.get(session.id);
    if (!voice) {
      const log = this.logger.logger.child({ session_id: session.id });
      const { engines, runner, interrupts, registry, config } = this;
      voice = new SessionVoice(session, { engines, runner, interrupts, registry, config, log });
      this.voices.set(session.id, voice);
    }
    return voice;
  }

  private close(sessionId: string): void {
    this.voices.get(sessionId)?.close();
    this.voices.delete(sessionId);
  }
}
