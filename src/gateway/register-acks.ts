import { PROTOCOL_VERSION, type RegisterAckPayload } from '@agent-gateway/protocol';
import { Inject, Injectable } from '@nestjs/common';
import { ApiKeyService } from '../auth/api-key.service.js';
import { SERVER_VERSION } from '../common/version.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { LlmProvider } from '../llm/llm-provider.js';
import type { Session } from '../session/session.js';
import { SpeechService } from '../tts/speech.service.js';
import { VoiceEngines } from '../voice/voice-engines.service.js';

/** REGISTER_ACK: what a new session got — the model, speech, the limits it is held to. */
@Injectable()
export class RegisterAcks {
  constructor(
    private readonly auth: ApiKeyService,
    private readonly llm: LlmProvider,
    private readonly speech: SpeechService,
    private readonly voice: VoiceEngines,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  of(session: Session): RegisterAckPayload {
    const { ws, limits } = this.config;
    const { audioTransport } = session.prefs;
    return {
      session_id: session.id,
      protocol_version: PROTOCOL_VERSION,
      server_version: SERVER_VERSION,
      auth_mode: this.auth.openMode ? 'open' : 'api_key',
      llm: this.llm.descriptor,
      tts: this.speech.enabled
        ? {
            enabled: true,
            provider: this.speech.providerName,
            voice: this.speech.voice,
            audio_format: this.speech.format,
            audio_transport: audioTransport,
          }
        : { enabled: false, audio_transport: audioTransport, reason: this.speech.unavailableReason },
      limits: {
        max_payload_bytes: ws.maxPayloadBytes,
        max_concurrent_requests: limits.maxConcurrentRequestsPerSession,
        max_request_text_chars: limits.maxRequestTextChars,
        rate_limit_per_second: limits.rateLimitPerSecond,
        rate_limit_burst: limits.rateLimitBurst,
        interrupt_rate_limit_per_second: limits.interruptRateLimitPerSecond,
        interrupt_rate_limit_burst: limits.interruptRateLimitBurst,
      },
      heartbeat: { ping_interval_ms: ws.pingIntervalMs, pong_timeout_ms: ws.pongTimeoutMs },
      durable: session.prefs.durable,
      resume_grace_ms: this.config.sessions.resumeGraceMs,
      ...(session.prefs.audioInput && { audio_input: this.voice.ack(session.prefs.audioInput) }),
    };
  }
}
