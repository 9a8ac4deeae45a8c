import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { ChatMessage } from '@agent-gateway/protocol';
import { type Conversation, ConversationStore } from './conversation.store.js';
import { promptFromHistory } from './prompt.js';
import type { StoredMessage } from './stored-message.js';

/**
 * Each session's conversation. Writes of one session are chained, and every
 * read waits for them, so a request started right after an interrupt sees the
 * interrupted turn.
 */
@Injectable()
export class ConversationService {
  private readonly logger = new Logger(ConversationService.name);
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ConversationStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async promptFor(sessionId: string): Promise<ChatMessage[]> {
    const conversation = await this.read(sessionId);
    return promptFromHistory(this.config.llm.systemPrompt, conversation?.messages ?? []);
  }

  /** Resolves once the turn is stored (a failed write is logged, and resolves too). */
  record(sessionId: string, ownerId: string, messages: StoredMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.write(sessionId, () => this.store.append(sessionId, ownerId, messages, this.config.history));
  }

  /** Every write issued so far has landed. */
  async settled(): Promise<void> {
    await Promise.all(this.writes.values());
  }

  async read(sessionId: string): Promise<Conversation | undefined> {
    await this.writes.get(sessionId);
    return this.store.load(sessionId);
  }

  async clear(sessionId: string): Promise<number> {
    await this.writes.get(sessionId);
    return this.store.clear(sessionId);
  }

  /**
   * The session has ended: its history stays readable for HISTORY_TTL_MS,
   * as one of the HISTORY_MAX_STORED_SESSIONS most recently ended.
   */
  release(sessionId: string): void {
    void this.write(sessionId, () => this.store.expireAfter(sessionId, this.config.history.retention));
  }

  private write(sessionId: string, operation: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(sessionId) ?? Promise.resolve();
    const next = previous.then(operation).catch((error: unknown) => {
      this.logger.error({ session_id: sessionId, err: error }, 'history write failed');
    });
    this.writes.set(sessionId, next);
    void next.finally(() => {
      if (this.writes.get(sessionId) === next) this.writes.delete(sessionId);
    });
    return next;
  }
}
