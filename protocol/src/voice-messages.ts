/**
 * What the gateway tells a client about its voice input. Times are
 * milliseconds of the session's input audio (0 is its first sample), so a
 * client can line its own timeline up with the gateway's.
 */

/** In REGISTER_ACK: what the session's voice input got, or why it has none. */
export interface AudioInputAckPayload {
  enabled: boolean;
  turn_detection?: 'server_vad' | 'manual';
  /** The format the gateway reads the client's audio in (it resamples to 16 kHz itself). */
  audio_format?: { codec: 'pcm_s16le'; sample_rate: number; channels: 1 };
  vad?: { engine: string; frame_ms: number; mode: number };
  asr?: { provider: string; model: string; language: string };
  /** Speech shorter than this never interrupts a reply. */
  min_interruption_ms?: number;
  /** A paused reply resumes at most this long after a false interruption ends. */
  false_interruption_timeout_ms?: number;
  /** Why voice input is off, when it is. */
  reason?: string;
}

export interface SpeechStartedPayload {
  speech_id: string;
  audio_start_ms: number;
}

export interface SpeechStoppedPayload {
  speech_id: string;
  audio_end_ms: number;
}

/**
 * What the user said: interim (`final: false`, may change) then final. In
 * push-to-talk, `request_id` is the client's; hands-free, the gateway's id
 * of the request the speech starts (absent when it starts none: echo, a
 * backchannel during a reply, nothing recognized).
 */
export interface TranscriptPayload {
  request_id?: string;
  speech_id?: string;
  text: string;
  final: boolean;
}

/**
 * Why a paused reply goes on: the speech was not an interruption. `timeout`:
 * no verdict within VAD_FALSE_INTERRUPTION_TIMEOUT_MS of the speech's end
 * (words of the user's own that come later still interrupt).
 */
export type FalseInterruption = 'too_short' | 'backchannel' | 'echo' | 'no_words' | 'timeout';

/** The user started speaking over these replies: stop playing their audio now; none of it is sent meanwhile. */
export interface PlaybackPausePayload {
  request_ids: string[];
  speech_id: string;
}

/** It was not an interruption: play on from where you paused; their audio is sent again from the first frame not yet sent. */
export interface PlaybackResumePayload {
  request_ids: string[];
  speech_id: string;
  reason: FalseInterruption;
}

export interface VoicePayloads {
  SPEECH_STARTED: SpeechStartedPayload;
  SPEECH_STOPPED: SpeechStoppedPayload;
  TRANSCRIPT: TranscriptPayload;
  PLAYBACK_PAUSE: PlaybackPausePayload;
  PLAYBACK_RESUME: PlaybackResumePayload;
}
