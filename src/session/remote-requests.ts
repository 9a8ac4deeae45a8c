import type { ForwardedFrame } from './forwarded-frame.js';
import type { QueuedRequest } from './outbound-frame.js';

export interface RemoteRequest {
  requestId: string;
  /** The instance that runs it. */
  instanceId: string;
  /** The owner's handle of the request, which its forwarded frames carry. */
  key: string;
  /** Stands for it in this instance's outbound queue (an interrupt drops its queued frames). */
  ref: QueuedRequest;
}

/** Ended requests still reachable for PLAYBACK reports, as for local ones. */
const RECENT = 16;

/**
 * The requests of a session that run on other gateway instances: they were
 * running when the session moved here (a RESUME on this instance), and their
 * frames are forwarded to be numbered and sent here. While an interrupt waits
 * for their owner to confirm, forwarded frames wait too (`hold`), so that the
 * INTERRUPT_ACK leaves ahead of the end frames it caused.
 */
export class RemoteRequests {
  private readonly active = new Map<string, RemoteRequest>();
  private readonly byKey = new Map<string, RemoteRequest>();
  private readonly recent: RemoteRequest[] = [];
  /** Keys of requests their owner confirmed it is stopping: what they sent before the stop is stale. */
  private readonly stopping = new Set<string>();
  private holds = 0;
  private held: ForwardedFrame[] = [];

  constructor(private readonly apply: (frame: ForwardedFrame, request: QueuedRequest | undefined) => void) {}

  add(request: Omit<RemoteRequest, 'ref'>): void {
    const remote = { ...request, ref: { id: request.requestId, handle: request.key } };
    this.active.set(request.requestId, remote);
    this.byKey.set(request.key, remote);
  }

  get size(): number {
    return this.active.size;
  }

  activeIds(): string[] {
    return [...this.active.keys()];
  }

  /** Running on another instance. */
  find(requestId: string): RemoteRequest | undefined {
    return this.active.get(requestId);
  }

  /** Running, or ended lately, on another instance. */
  findRecent(requestId: string): RemoteRequest | undefined {
    return this.active.get(requestId) ?? this.recent.find((request) => request.requestId === requestId);
  }

  /** The instances that run this session's remote requests, with them. */
  byInstance(): Map<string, RemoteRequest[]> {
    const owners = new Map<string, RemoteRequest[]>();
    for (const request of this.active.values()) owners.set(request.instanceId, [...(owners.get(request.instanceId) ?? []), request]);
    return owners;
  }

  /**
   * The owner confirmed it stops this request: its text and audio still on
   * the way are dropped, as a local interrupt drops them from the queue; what
   * the stop itself sends (cancelled tools, the end frame) goes through.
   */
  markStopping(requestId: string): void {
    const request = this.active.get(requestId);
    if (request) this.stopping.add(request.key);
  }

  /** A frame from the owner; its end frame retires the request. */
  receive(frame: ForwardedFrame): void {
    if (this.holds > 0) {
      this.held.push(frame);
      return;
    }
    const lane = 'audio' in frame ? 'audio' : frame.lane;
    if (frame.request_key !== undefined && this.stopping.has(frame.request_key) && (lane === 'text' || lane === 'audio')) return;
    this.apply(frame, frame.request_key === undefined ? undefined : this.byKey.get(frame.request_key)?.ref);
    if ('json' in frame && frame.json.type === 'RESPONSE') {
      const payload = frame.json.payload as { request_id: string; text_stream_seq?: number };
      if (payload.text_stream_seq === -1) this.ended(payload.request_id);
    }
  }

  /** Holds forwarded frames back until the returned function is called. */
  hold(): () => void {
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds > 0) return;
      const frames = this.held;
      this.held = [];
      for (const frame of frames) this.receive(frame);
    };
  }

  /** The owner is gone or the request ended without a frame reaching here (reaped). */
  ended(requestId: string): void {
    const request = this.active.get(requestId);
    if (!request) return;
    this.active.delete(requestId);
    this.byKey.delete(request.key);
    this.stopping.delete(request.key);
    this.recent.push(request);
    if (this.recent.length > RECENT) this.recent.shift();
  }
}
