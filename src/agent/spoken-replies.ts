import { Injectable } from '@nestjs/common';
import type { QueuedRequest } from '../session/outbound-frame.js';
import type { ReplyFrames } from './reply-frames.js';

/**
 * The reply frames of requests that speak, for as long as anything holds
 * their request: audio may wait in a session's queue for a slow client after
 * the request has ended, and an INTERRUPT still drops it and corrects the end
 * frame's count.
 */
@Injectable()
export class SpokenReplies {
  private readonly replies = new WeakMap<QueuedRequest, ReplyFrames>();

  add(request: QueuedRequest, frames: ReplyFrames): void {
    this.replies.set(request, frames);
  }

  get(request: QueuedRequest): ReplyFrames | undefined {
    return this.replies.get(request);
  }
}
