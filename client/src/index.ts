/**
 * The agent gateway's client SDK. Its protocol types are the gateway's own
 * (the @agent-gateway/protocol package): one source for both sides.
 */
export { GatewayClient } from './gateway-client.js';
export type { InterruptReport } from './replies/interrupts.js';
export type { ConnectionStatus } from './connection/session-link.js';
export type {
  ClientFunction,
  FunctionCallContext,
  GatewayClientOptions,
  InterruptOptions,
  RequestOptions,
  ResumePoint,
  UtteranceOptions,
} from './client-options.js';
export type { AudioInputOptions } from './connection/link-options.js';
export { Reply, type InterruptOutcome, type ReplyOrigin } from './replies/reply.js';
export type { ReplyFrame } from './replies/reply-frame.js';
export type { AudioChunk } from './audio/audio-chunk.js';
export {
  AckTimeoutError,
  ClientClosedError,
  ConnectionError,
  GatewayError,
  ReplyLostError,
  SessionLostError,
  VoiceInputUnavailableError,
} from './errors.js';
export type { SocketEvent, WebSocketFactory, WebSocketLike } from './connection/web-socket-like.js';
export type { AudioSink, PlaybackReport, PlayedPosition } from './audio/audio-sink.js';
export { AudioPlayer, type AudioPlayerOptions } from './audio/audio-player.js';
export type { AudioCapture, AudioSource, CaptureFormat } from './audio/audio-source.js';
export { Microphone, type MicrophoneOptions } from './audio/microphone.js';
export { Resampler, type ResamplerOptions } from './audio/resampler.js';
export { Utterance } from './voice/utterance.js';
export type { SpokenReply } from './voice/voice-events.js';
export type { BackoffOptions } from './connection/backoff.js';
export * from '@agent-gateway/protocol';
export type { ClientMsgType, ClientPayloads } from '@agent-gateway/protocol';
export type { ErrorCode } from '@agent-gateway/protocol';
export type { ChatMessage, JsonSchema, JsonValue, ToolCall } from '@agent-gateway/protocol';
