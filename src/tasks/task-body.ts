import { z } from 'zod';

/** `POST /v1/tasks`: a user turn, run as a durable request without a socket. */
export const TaskBody = z.object({
  content: z.object({ text: z.string().min(1) }),
  require_tts: z.boolean().default(false),
  /** Continue the conversation of a session this key owns (an earlier task's, or a WebSocket one's). */
  session_id: z.string().min(1).max(128).optional(),
});
