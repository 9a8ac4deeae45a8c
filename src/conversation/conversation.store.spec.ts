import { InMemoryConversationStore } from './conversation.store.js';
import type { StoredMessage } from './stored-message.js';

const window = { maxTurns: 10, maxTokens: 10_000 };
const turn = (text: string): StoredMessage[] => [{ message: { role: 'user', content: text }, request_id: 'r1', at: 0 }];

describe('InMemoryConversationStore', () => {
  it('keeps the histories of at most maxSessions ended sessions, forgetting the oldest first', async () => {
    const store = new InMemoryConversationStore();
    for (const id of ['a', 'b', 'c', 'open']) await store.append(id, 'u', turn(id), window);
    const retention = { ttlMs: 60_000, maxSessions: 2 };
    await store.expireAfter('a', retention);
    await store.expireAfter('b', retention);
    await store.expireAfter('c', retention);
    expect(await store.load('a')).toBeUndefined();
    expect((await store.load('b'))?.messages).toHaveLength(1);
    expect((await store.load('c'))?.messages).toHaveLength(1);
    // A session still going is not counted.
    expect((await store.load('open'))?.messages).toHaveLength(1);
  });
});
