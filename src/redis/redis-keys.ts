/**
 * Every Redis key and channel the gateway uses, under REDIS_KEY_PREFIX (so
 * several deployments, or test runs, can share one Redis).
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  /** String with a TTL: the instance is alive while it exists. */
  instance(instanceId: string): string {
    return `${this.prefix}instance:${instanceId}`;
  }

  /** Set of the instances that have run here and not been reaped. */
  get instances(): string {
    return `${this.prefix}instances`;
  }

  /** Hash `<session>\n<request>` → request record: what an instance runs, for the reaper when it dies. */
  instanceRequests(instanceId: string): string {
    return `${this.prefix}instance-requests:${instanceId}`;
  }

  /** Set of the sessions an instance owns, for the reaper when it dies. */
  instanceSessions(instanceId: string): string {
    return `${this.prefix}instance-sessions:${instanceId}`;
  }

  /** Lock: one instance reaps a dead one. */
  reaping(instanceId: string): string {
    return `${this.prefix}reaping:${instanceId}`;
  }

  /** Hash: `owner` (the instance with its sockets and numbering) and `record` (JSON). */
  session(sessionId: string): string {
    return `${this.prefix}session:${sessionId}`;
  }

  /** Hash request id → instance that runs it. */
  sessionRequests(sessionId: string): string {
    return `${this.prefix}session-requests:${sessionId}`;
  }

  /** Hash request id → LostRequest (JSON): a dead instance's requests, for the session's owner to end. */
  lostRequests(sessionId: string): string {
    return `${this.prefix}lost-requests:${sessionId}`;
  }

  /** Stream of the session's frames, entry id `0-<seq>`. */
  log(sessionId: string): string {
    return `${this.prefix}log:${sessionId}`;
  }

  /** List of JSON messages: the conversation history. */
  conversation(sessionId: string): string {
    return `${this.prefix}conversation:${sessionId}`;
  }

  /** String: the identity the history belongs to. */
  conversationOwner(sessionId: string): string {
    return `${this.prefix}conversation-owner:${sessionId}`;
  }

  /** String (JSON): a REST task's state. */
  task(taskId: string): string {
    return `${this.prefix}task:${taskId}`;
  }

  /** Pub/sub channel of one instance. */
  channel(instanceId: string): string {
    return `${this.prefix}bus:${instanceId}`;
  }

  /** Pub/sub channel every instance listens to. */
  get broadcastChannel(): string {
    return `${this.prefix}bus:*all*`;
  }
}

/** A request's field in its instance's hash. */
export function requestField(sessionId: string, requestId: string): string {
  return `${sessionId}\n${requestId}`;
}
