import { type HistoryWindow, trimToWindow } from './history-window.js';
import type { StoredMessage } from './stored-message.js';

/** How the histories of ended sessions are kept: each for `ttlMs`, and no more than `maxSessions` of them. */
export interface HistoryRetention {
  ttlMs: number;
  maxSessions: number;
}

export interface Conversation {
  /** The identity (API key) the session belongs to: only it may read the history over HTTP. */
  ownerId: string;
  messages: StoredMessage[];
}

/**
 * Where histories live. In memory by default; a shared store lets several
 * gateway processes serve one session.
 */
export abstract class ConversationStore {
  abstract load(sessionId: string): Promise<Conversation | undefined>;
  /** Adds a turn's messages and trims the history to the window, at whole turns. */
  abstract append(sessionId: string, ownerId: string, messages: StoredMessage[], window: HistoryWindow): Promise<void>;
  /** Returns how many messages were removed. */
  abstract clear(sessionId: string): Promise<number>;
  /**
   * The session has ended: forget its history after `ttlMs`, unless it is
   * touched again; past `maxSessions` such histories, the oldest go first.
   */
  abstract expireAfter(sessionId: string, retention: HistoryRetention): Promise<void>;
}

interface Entry extends Conversation {
  expiry?: NodeJS.Timeout;
}

export class InMemoryConversationStore extends ConversationStore {
  private readonly entries = new Map<string, Entry>();
  /** The sessions whose history is expiring, oldest first (a Set keeps insertion order). */
  private readonly expiring = new Set<string>();

  async load(sessionId: string): Promise<Conversation | undefined> {
    const entry = this.entries.get(sessionId);
    return entry && { ownerId: entry.ownerId, messages: [...entry.messages] };
  }

  async append(sessionId: string, ownerId: string, messages: StoredMessage[], window: HistoryWindow): Promise<void> {
    const entry = this.entries.get(sessionId) ?? { ownerId, messages: [] };
    clearTimeout(entry.expiry);
    entry.expiry = undefined;
    this.expiring.delete(sessionId);
    entry.messages = trimToWindow([...entry.messages, ...messages], window);
    this.entries.set(sessionId, entry);
  }

  async clear(sessionId: string): Promise<number> {
    const entry = this.entries.get(sessionId);
    if (!entry) return 0;
    const cleared = entry.messages.length;
    entry.messages = [];
    return cleared;
  }

  async expireAfter(sessionId: string, { ttlMs, maxSessions }: HistoryRetention): Promise<void> {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    clearTimeout(entry.expiry);
    entry.expiry = setTimeout(() => this.forget(sessionId), ttlMs).unref();
    this.expiring.delete(sessionId);
    this.expiring.add(sessionId);
    for (const oldest of this.expiring) {
      if (this.expiring.size <= maxSessions) break;
      this.forget(oldest);
    }
  }

  private forget(sessionId: string): void {
    clearTimeout(this.entries.get(sessionId)?.expiry);
    this.entries.delete(sessionId);
    this.expiring.delete(sessionId);
  }
}
