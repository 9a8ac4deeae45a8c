import type { TranscriptPayload } from '@agent-gateway/protocol';
import type { PinoLogger } from 'nestjs-pino';
import { AsrError } from '../asr/asr-provider.js';
import { toGatewayError } from '../common/gateway-error.js';
import type { Session } from '../session/session.js';

/** The voice messages of one session, each on its lane: what the gateway heard, as it hears it. */
export class VoiceFrames {
  constructor(
    private readonly session: Session,
    private readonly log: PinoLogger['logger'],
  ) {}

  speechStarted(speechId: string, audioStartMs: number): void {
    this.session.send('SPEECH_STARTED', { speech_id: speechId, audio_start_ms: audioStartMs }, { lane: 'control' });
  }

  speechStopped(speechId: string, audioEndMs: number): void {
    this.session.send('SPEECH_STOPPED', { speech_id: speechId, audio_end_ms: audioEndMs }, { lane: 'control' });
  }

  transcript(payload: TranscriptPayload): void {
    this.session.send('TRANSCRIPT', payload, { lane: 'text' });
  }

  recognitionFailed(speechId: string, error: unknown): void {
    this.log.warn({ speech_id: speechId, detail: error instanceof AsrError ? error.detail : String(error) }, 'speech recognition failed');
    this.session.send('ERROR', toGatewayError(error).toPayload(), { lane: 'control' });
  }
}
