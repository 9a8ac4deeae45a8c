import { encodeAudioFrame, setAudioFrameSeq, PROTOCOL_VERSION, type ServerMsgType, type ServerPayloads } from '@agent-gateway/protocol';

/** What a frame carries of its request's reply, so that frames dropped unsent can be accounted for. */
export type FrameContent = { kind: 'text'; seq: number } | { kind: 'audio'; seq: number } | { kind: 'end' };

/**
 * The request a frame belongs to, by identity: an ActiveRequest, or, for a
 * request running on another instance, the object that stands for it here.
 */
export interface QueuedRequest {
  readonly id: string;
  /** Unique across sessions and instances. */
  readonly handle: string;
}

export interface FrameTag {
  /**
   * The request the frame belongs to, by identity: an interrupt drops its
   * queued frames. Not by request_id, which a client may reuse while frames
   * of the earlier request still wait.
   */
  request?: QueuedRequest;
  content?: FrameContent;
}

/**
 * A frame on its way to a session's sockets. Its sequence number is only
 * known when it leaves the queue (the queue may reorder and drop), so it is
 * built in two halves around it; its size is known from the start, for the
 * queue's limits.
 */
export interface OutboundFrame extends FrameTag {
  /** Bytes on the wire (give or take the digits of the sequence number). */
  size: number;
  render(seq: number): string | Uint8Array;
}

/** Room for the digits of the sequence number in `size`. */
const SEQ_DIGITS = 10;

export function jsonFrame<T extends ServerMsgType>(
  type: T,
  payload: ServerPayloads[T],
  sessionId: string,
  tag: FrameTag = {},
): OutboundFrame {
  const head = `{"version":"${PROTOCOL_VERSION}","msg_type":"${type}","session_id":${JSON.stringify(sessionId)},"seq":`;
  const timestamp = Date.now();
  const tail = () => `,"payload":${JSON.stringify(payload)},"timestamp":${timestamp}}`;
  // Bytes, as on the wire (UTF-8): the queue's limits are compared with sockets' bufferedAmount.
  const size = (rest: string) => Buffer.byteLength(head) + SEQ_DIGITS + Buffer.byteLength(rest);
  if (tag.content?.kind === 'end') {
    // Written as it leaves: dropping audio queued ahead of it may still lower the count it reports (never raise it).
    return { ...tag, size: size(tail()), render: (seq) => `${head}${seq}${tail()}` };
  }
  const rest = tail();
  return { ...tag, size: size(rest), render: (seq) => `${head}${seq}${rest}` };
}

export function audioFrame(request: QueuedRequest, voiceStreamSeq: number, audio: Uint8Array): OutboundFrame {
  const data = encodeAudioFrame(request.id, voiceStreamSeq, audio);
  return {
    request,
    content: { kind: 'audio', seq: voiceStreamSeq },
    size: data.length,
    render: (seq) => {
      setAudioFrameSeq(data, seq);
      return data;
    },
  };
}
