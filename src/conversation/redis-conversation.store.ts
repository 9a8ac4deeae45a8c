import { RedisService } from '../redis/redis.service.js';
import { type Conversation, ConversationStore, type HistoryRetention } from './conversation.store.js';
import { type HistoryWindow, trimToWindow } from './history-window.js';
import type { StoredMessage } from './stored-message.js';

/** Appends a turn atomically; returns the whole list, for trimming. */
const APPEND = `
redis.call('SET', KEYS[2], ARGV[1])
redis.call('PERSIST', KEYS[1])
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return redis.call('LRANGE', KEYS[1], 0, -1)`;

/** Drops the oldest messages, unless another append came in between (the next append trims then). */
const TRIM = `
if redis.call('LLEN', KEYS[1]) == tonumber(ARGV[1]) then redis.call('LTRIM', KEYS[1], ARGV[2], -1) end
return 0`;

const CLEAR = `
local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`;

/**
 * Histories in Redis, shared by every gateway instance: a list of JSON
 * messages per session and its owner beside it. Appends are atomic (a turn
 * ending on one instance and the next starting on another do not lose each
 * other's messages); trimming to the window cuts at whole turns, as in memory.
 */
export class RedisConversationStore extends ConversationStore {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async load(sessionId: string): Promise<Conversation | undefined> {
    const [messages, owner] = await this.redis.redis
      .multi()
      .lrange(this.redis.keys.conversation(sessionId), 0, -1)
      .get(this.ownerKey(sessionId))
      .exec()
      .then((results) => (results ?? []).map(([error, value]) => (error ? undefined : value)) as [string[] | undefined, string | null]);
    if (!owner) return undefined;
    return { ownerId: owner, messages: (messages ?? []).map((json) => JSON.parse(json) as StoredMessage) };
  }

  async append(sessionId: string, ownerId: string, messages: StoredMessage[], window: HistoryWindow): Promise<void> {
    const listKey = this.redis.keys.conversation(sessionId);
    const all = (await this.redis.redis.eval(
      APPEND,
      2,
      listKey,
      this.ownerKey(sessionId),
      ownerId,
      ...messages.map((message) => JSON.stringify(message)),
    )) as string[];
    const kept = trimToWindow(
      all.map((json) => JSON.parse(json) as StoredMessage),
      window,
    ).length;
    if (kept < all.length) await this.redis.redis.eval(TRIM, 1, listKey, all.length, all.length - kept);
  }

  async clear(sessionId: string): Promise<number> {
    return (await this.redis.redis.eval(CLEAR, 1, this.redis.keys.conversation(sessionId))) as number;
  }

  /** Redis bounds the ended histories by their TTL alone (HISTORY_MAX_STORED_SESSIONS applies to the in-memory store). */
  async expireAfter(sessionId: string, { ttlMs }: HistoryRetention): Promise<void> {
    await this.redis.redis.multi().pexpire(this.redis.keys.conversation(sessionId), ttlMs).pexpire(this.ownerKey(sessionId), ttlMs).exec();
  }

  private ownerKey(sessionId: string): string {
    return this.redis.keys.conversationOwner(sessionId);
  }
}
