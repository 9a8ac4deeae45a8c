import type { AudioInputAckPayload, FalseInterruption } from '@agent-gateway/protocol';
import { Inject, Injectable } from '@nestjs/common';
import { AsrService } from '../asr/asr.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AudioInputPrefs } from '../session/session.js';
import { VadService } from '../vad/vad.service.js';
import { envelopeMatch } from '../audio/energy-envelope.js';
import type { HeardSpeech } from './barge-in.js';
import { isEcho, TurnWords, wordsOf } from './turn-words.js';

export type Verdict = 'user' | 'backchannel' | 'echo' | 'no_words';

/**
 * How closely speech must follow the agent's audio to be its echo. Measured
 * on espeak-ng speech in test/voice.e2e-spec.ts: the reply fed back 0.77, a
 * backchannel over it 0.59, other speech −1 (too long to lie within it).
 */
const ECHO_CORRELATION = 0.7;

/** The engines voice input runs on (VAD, recognizer) and the words it judges by, and what a session may get of them. */
@Injectable()
export class VoiceEngines {
  private readonly words: TurnWords;

  constructor(
    readonly asr: AsrService,
    readonly vad: VadService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.words = new TurnWords(config.voice.backchannels);
  }

  /** Why a session registered with `prefs` cannot take audio (in `mode`, when it asks for one), or undefined when it can. */
  refusal(prefs: AudioInputPrefs | undefined, mode?: 'server_vad' | 'manual'): string | undefined {
    if (!prefs) return 'REGISTER asked for no audio_input';
    if (!this.asr.provider) return `no speech recognition: ${this.asr.reason ?? 'off'}`;
    if ((mode ?? prefs.turn_detection) === 'server_vad' && !this.vad.engine)
      return `no voice activity detection: ${this.vad.reason ?? 'off'}`;
    if (mode && mode !== prefs.turn_detection) return `this session registered turn_detection "${prefs.turn_detection}"`;
    return undefined;
  }

  language(prefs: AudioInputPrefs | undefined): string {
    return prefs?.language ?? this.asr.defaultLanguage;
  }

  ack(prefs: AudioInputPrefs | undefined): AudioInputAckPayload | undefined {
    if (!prefs) return undefined;
    const reason = this.refusal(prefs);
    if (reason) return { enabled: false, reason };
    const { voice } = this.config;
    const asr = this.asr.provider?.descriptor;
    const vad = this.vad.engine?.descriptor;
    return {
      enabled: true,
      turn_detection: prefs.turn_detection,
      audio_format: prefs.audio_format,
      ...(prefs.turn_detection === 'server_vad' && vad && { vad: { engine: vad.engine, frame_ms: vad.frameMs, mode: vad.mode } }),
      ...(asr && { asr: { provider: asr.provider, model: asr.model, language: this.language(prefs) } }),
      min_interruption_ms: voice.minInterruptionMs,
      false_interruption_timeout_ms: voice.falseInterruptionTimeoutMs,
    };
  }

  /** What came of speech over a reply, counted. */
  bargedIn(outcome: 'interrupted' | FalseInterruption): void {
    this.metrics.bargeIns.inc({ outcome });
  }

  /**
   * Judges a transcript beside what the agent was saying: its own audio
   * heard back (the loudness follows what was sent, or the words are its
   * words) is echo, whatever the recognizer made of it.
   */
  verdict(text: string, heard: HeardSpeech, language: string): Verdict {
    if (heard.loudness.length > 0 && envelopeMatch(heard.loudness, heard.agentLoudness) >= ECHO_CORRELATION) return 'echo';
    if (wordsOf(text).length === 0) return 'no_words';
    if (isEcho(text, heard.agentText)) return 'echo';
    return this.words.isBackchannel(text, language) ? 'backchannel' : 'user';
  }
}
