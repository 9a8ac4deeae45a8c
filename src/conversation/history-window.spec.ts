import type { ChatMessage } from '@agent-gateway/protocol';
import { trimToWindow } from './history-window.js';
import type { StoredMessage } from './stored-message.js';

const stored = (message: ChatMessage, request_id = 'r'): StoredMessage => ({ message, request_id, at: 0 });
const user = (content: string) => stored({ role: 'user', content });
const assistant = (content: string) => stored({ role: 'assistant', content });
const toolTurn = (n: number): StoredMessage[] => [
  user(`question ${n}`),
  stored({ role: 'assistant', content: null, tool_calls: [{ id: `c${n}`, type: 'function', function: { name: 'f', arguments: '{}' } }] }),
  stored({ role: 'tool', tool_call_id: `c${n}`, content: 'x'.repeat(400) }),
  assistant(`answer ${n}`),
];

describe('trimToWindow', () => {
  it('keeps the latest whole turns within the turn limit', () => {
    const history = [user('a'), assistant('A'), user('b'), assistant('B'), user('c'), assistant('C')];
    expect(trimToWindow(history, { maxTurns: 2, maxTokens: 10_000 }).map((m) => m.message.content)).toEqual(['b', 'B', 'c', 'C']);
  });

  it('cuts on the token budget at turn boundaries, never between a tool call and its result', () => {
    const history = [...toolTurn(1), ...toolTurn(2), ...toolTurn(3)];
    for (const maxTokens of [100, 150, 200, 250, 300, 400]) {
      const kept = trimToWindow(history, { maxTurns: 10, maxTokens });
      expect(kept[0].message.role).toBe('user');
      const callIds = kept.flatMap((m) => (m.message.role === 'assistant' ? (m.message.tool_calls ?? []).map((c) => c.id) : []));
      const resultIds = kept.flatMap((m) => (m.message.role === 'tool' ? [m.message.tool_call_id] : []));
      expect(resultIds).toEqual(callIds);
    }
  });

  it('keeps the latest turn even when it alone is over budget', () => {
    const kept = trimToWindow([...toolTurn(1), ...toolTurn(2)], { maxTurns: 5, maxTokens: 10 });
    expect(kept.map((m) => m.message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(kept[0].message.content).toBe('question 2');
  });
});
