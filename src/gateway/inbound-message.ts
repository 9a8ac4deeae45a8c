import type { Envelope, InputAudioFrame } from '@agent-gateway/protocol';
import type { GatewayError } from '../common/gateway-error.js';

/** What the adapter hands to a handler: the envelope and when it arrived. */
export interface InboundMessage {
  envelope: Envelope<string, Record<string, unknown>>;
  /** `performance.now()` at parse time, the start of every latency we log. */
  receivedAt: number;
  /** A binary frame of microphone audio (its envelope is an empty AUDIO). */
  inputAudio?: InputAudioFrame;
}

/** Frames that are not a valid envelope are routed as this instead of being dropped. */
export const INVALID_EVENT = '$invalid';

export interface InvalidMessage {
  error: GatewayError;
  receivedAt: number;
}
