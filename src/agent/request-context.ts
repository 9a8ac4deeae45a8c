import type { EndPayload } from '@agent-gateway/protocol';
import type { PinoLogger } from 'nestjs-pino';
import type { ActiveRequest } from '../requests/active-request.js';
import type { Session } from '../session/session.js';
import type { Uninterruptible } from '../tools/uninterruptible.js';
import type { ReplyFrames } from './reply-frames.js';
import type { Turn } from './turn.js';

export type RequestLog = PinoLogger['logger'];

/** What one running request needs at hand when its events arrive and when it ends. */
export interface RequestContext {
  session: Session;
  request: ActiveRequest;
  turn: Turn;
  frames: ReplyFrames;
  /** What a stop of this request must wait for (tools declared not cancellable). */
  uninterruptible: Uninterruptible;
  log: RequestLog;
  /** Hears the end frame (REST tasks keep their state from it). */
  onEnd?: (end: EndPayload) => void;
}
