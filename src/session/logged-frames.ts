import { decodeAudioFrame, type EndPayload } from '@agent-gateway/protocol';
import type { LoggedFrame } from './event-log.js';

/** A logged frame, read: its type and, for a request's reply, which request and what it carries. */
export interface FrameView {
  msgType: string;
  requestId?: string;
  /** A text delta's `text_stream_seq` (0, 1, …); -1 on the end frame. */
  textSeq?: number;
  /** An audio frame's `voice_stream_seq`. */
  voiceSeq?: number;
  /** A text delta's text. */
  text?: string;
  /** The request's end frame. */
  end?: EndPayload;
}

interface LoggedEnvelope {
  msg_type: string;
  payload: { request_id?: string; text_stream_seq?: number; voice_stream_seq?: number; content?: { text?: unknown } };
}

/** Frames are read again and again (a task polled): each is parsed once. */
const views = new WeakMap<LoggedFrame, FrameView>();

/** What a logged frame says: the one reader of logged frames (tasks, the reaper's counts). */
export function viewOf(frame: LoggedFrame): FrameView {
  const cached = views.get(frame);
  if (cached) return cached;
  const view = read(frame.data);
  views.set(frame, view);
  return view;
}

function read(data: string | Uint8Array): FrameView {
  if (typeof data !== 'string') {
    const audio = decodeAudioFrame(data);
    return { msgType: 'RESPONSE', requestId: audio.requestId, voiceSeq: audio.voiceStreamSeq };
  }
  const { msg_type: msgType, payload } = JSON.parse(data) as LoggedEnvelope;
  if (msgType !== 'RESPONSE') return { msgType, requestId: payload.request_id };
  const { request_id: requestId, text_stream_seq: textSeq, voice_stream_seq: voiceSeq } = payload;
  const text = typeof payload.content?.text === 'string' ? payload.content.text : undefined;
  return {
    msgType,
    requestId,
    textSeq,
    ...(textSeq === undefined && voiceSeq !== undefined && { voiceSeq }),
    ...(text !== undefined && { text }),
    ...(textSeq === -1 && { end: payload as unknown as EndPayload }),
  };
}

/** How many text and audio frames of one request a session's log holds: what its client was sent. */
export function countFrames(frames: LoggedFrame[], requestId: string): { text_frames: number; voice_frames: number } {
  let text = 0;
  let voice = 0;
  for (const frame of frames) {
    const view = viewOf(frame);
    if (view.msgType !== 'RESPONSE' || view.requestId !== requestId) continue;
    if (view.textSeq !== undefined && view.textSeq >= 0) text += 1;
    else if (view.voiceSeq !== undefined) voice += 1;
  }
  return { text_frames: text, voice_frames: voice };
}
