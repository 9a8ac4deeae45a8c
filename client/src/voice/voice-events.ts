import { type Observable, Subject } from 'rxjs';
import type {
  EndPayload,
  PlaybackPausePayload,
  PlaybackResumePayload,
  ServerEnvelope,
  SpeechStartedPayload,
  SpeechStoppedPayload,
  TranscriptPayload,
  VoicePayloads,
} from '@agent-gateway/protocol';
import type { AudioSink, PlaybackReport } from '../audio/audio-sink.js';
import type { Reply } from '../replies/reply.js';

/** A request the gateway started from what the user said hands-free: its reply, and the final transcript that announced it. */
export interface SpokenReply {
  reply: Reply;
  transcript: TranscriptPayload;
}

export type VoiceEnvelope = ServerEnvelope<keyof VoicePayloads>;

export interface VoiceHooks {
  /** The reply of a request a final transcript names, when the client does not know it yet (see ReplyBook.openSpoken). */
  openSpoken(requestId: string): Reply | undefined;
  /** Sends a PLAYBACK report now (the gateway needs it to tell what the user heard before the pause). */
  report(report: PlaybackReport): void;
}

/**
 * What the gateway tells about the user's voice, as observables, and what
 * the client does about it: PLAYBACK_PAUSE pauses the replies' audio at once
 * and reports where each paused; PLAYBACK_RESUME plays them on from there
 * (it was no interruption); a final transcript that starts a request opens
 * its reply.
 */
export class VoiceEvents {
  private readonly speechStartedSubject = new Subject<SpeechStartedPayload>();
  private readonly speechStoppedSubject = new Subject<SpeechStoppedPayload>();
  private readonly transcriptsSubject = new Subject<TranscriptPayload>();
  private readonly pausedSubject = new Subject<PlaybackPausePayload>();
  private readonly resumedSubject = new Subject<PlaybackResumePayload>();
  private readonly spokenSubject = new Subject<SpokenReply>();
  readonly speechStarted$: Observable<SpeechStartedPayload> = this.speechStartedSubject.asObservable();
  readonly speechStopped$: Observable<SpeechStoppedPayload> = this.speechStoppedSubject.asObservable();
  readonly transcripts$: Observable<TranscriptPayload> = this.transcriptsSubject.asObservable();
  readonly playbackPaused$: Observable<PlaybackPausePayload> = this.pausedSubject.asObservable();
  readonly playbackResumed$: Observable<PlaybackResumePayload> = this.resumedSubject.asObservable();
  readonly spokenReplies$: Observable<SpokenReply> = this.spokenSubject.asObservable();
  /** Requests whose audio is paused, until PLAYBACK_RESUME or their end. */
  private readonly paused = new Set<string>();

  constructor(
    private readonly player: AudioSink | undefined,
    private readonly hooks: VoiceHooks,
  ) {}

  handle(envelope: VoiceEnvelope): void {
    switch (envelope.msg_type) {
      case 'SPEECH_STARTED':
        this.speechStartedSubject.next(envelope.payload);
        return;
      case 'SPEECH_STOPPED':
        this.speechStoppedSubject.next(envelope.payload);
        return;
      case 'TRANSCRIPT':
        this.transcript(envelope.payload);
        return;
      case 'PLAYBACK_PAUSE':
        this.pause(envelope.payload);
        return;
      case 'PLAYBACK_RESUME':
        for (const requestId of envelope.payload.request_ids) {
          this.paused.delete(requestId);
          this.player?.resume(requestId);
        }
        this.resumedSubject.next(envelope.payload);
        return;
    }
  }

  /**
   * A reply's end frame. Paused and ended interrupted, it will not resume:
   * its audio is dropped (the INTERRUPT_ACK that says so first may not have
   * come, say in a RESUME's replay, which has no ACKs).
   */
  ended(end: EndPayload): void {
    if (!this.paused.delete(end.request_id) || !end.interrupted) return;
    this.player?.stop(end.request_id);
  }

  private transcript(transcript: TranscriptPayload): void {
    this.transcriptsSubject.next(transcript);
    if (!transcript.final || transcript.request_id === undefined) return;
    const reply = this.hooks.openSpoken(transcript.request_id);
    if (reply) this.spokenSubject.next({ reply, transcript });
  }

  private pause(pause: PlaybackPausePayload): void {
    // First silence, then tell: the user is speaking now.
    const positions = pause.request_ids.map((requestId) => ({ requestId, position: this.player?.pause(requestId) }));
    for (const requestId of pause.request_ids) this.paused.add(requestId);
    if (this.player) {
      // Nothing of it played (not yet arrived, or audio still locked): nothing heard.
      for (const { requestId, position } of positions) {
        this.hooks.report({ request_id: requestId, ...(position ?? { voice_stream_seq: 0, played_ms: 0 }) });
      }
    }
    this.pausedSubject.next(pause);
  }
}
