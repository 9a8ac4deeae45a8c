import type { ToolCall } from '@agent-gateway/protocol';
import { Turn } from './turn.js';

const call = (id: string, name = 'get_current_time'): ToolCall => ({ id, type: 'function', function: { name, arguments: '{}' } });
const messagesOf = (turn: Turn, ending: Parameters<Turn['toHistory']>[0]) => turn.toHistory(ending).map((m) => m.message);

describe('Turn', () => {
  it('records a plain finished turn as user and assistant', () => {
    const turn = new Turn('r1', 'hello');
    turn.startRound();
    turn.appendText('Hi ', 0);
    turn.appendText('there.', 1);
    const history = turn.toHistory({ kind: 'finished' });
    expect(history.map((m) => m.message)).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'Hi there.' },
    ]);
    expect(history.every((m) => m.request_id === 'r1' && !m.interrupted)).toBe(true);
  });

  it('gives the next model call the tool calls and their results', () => {
    const turn = new Turn('r1', 'time?');
    turn.startRound();
    turn.appendText('Let me check.', 0);
    turn.requestTools([call('c1')], () => 'server');
    turn.toolStarted('c1');
    turn.toolSettled('c1', { ok: true, result: { local: 'noon' } });
    turn.startRound();
    expect(turn.promptMessages()).toEqual([
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [call('c1')] },
      { role: 'tool', tool_call_id: 'c1', content: '{"local":"noon"}' },
    ]);
  });

  it('answers every unfinished call with "cancelled by user" when interrupted, keeping finished results', () => {
    const turn = new Turn('r1', 'two things');
    turn.startRound();
    turn.requestTools([call('done'), call('slow', 'lookup')], (name) => (name === 'lookup' ? 'client' : 'server'));
    turn.toolStarted('done');
    turn.toolStarted('slow');
    turn.toolSettled('done', { ok: true, result: 42 });
    const running = turn.cancelUnsettled();
    expect(running.map((r) => [r.call.id, r.executor])).toEqual([['slow', 'client']]);
    expect(turn.toolSettled('slow', { ok: true, result: 'late' })).toBeUndefined();
    expect(messagesOf(turn, { kind: 'interrupted', reason: 'STOP' })).toEqual([
      { role: 'user', content: 'two things' },
      { role: 'assistant', content: null, tool_calls: [call('done'), call('slow', 'lookup')] },
      { role: 'tool', tool_call_id: 'done', content: '42' },
      { role: 'tool', tool_call_id: 'slow', content: '{"error":"cancelled by user"}' },
      { role: 'assistant', content: '' },
    ]);
    expect(turn.toHistory({ kind: 'interrupted', reason: 'STOP' }).at(-1)?.interrupted).toEqual({ reason: 'STOP', kept: 'delivered' });
  });

  it('keeps what was delivered, or only what was heard', () => {
    const turn = new Turn('r1', 'story');
    turn.startRound();
    turn.appendText('Once upon a time, there was a keeper. She lit the lamp.', 0);
    expect(messagesOf(turn, { kind: 'interrupted', reason: 'X' }).at(-1)).toEqual({
      role: 'assistant',
      content: 'Once upon a time, there was a keeper. She lit the lamp.',
    });
    const heard = turn.toHistory({ kind: 'interrupted', reason: 'X', heardText: 'Once upon a time, there was' });
    expect(heard.at(-1)).toMatchObject({
      message: { role: 'assistant', content: 'Once upon a time, there was' },
      interrupted: { reason: 'X', kept: 'heard' },
    });
  });

  it('cuts heard text across model calls', () => {
    const turn = new Turn('r1', 'time?');
    turn.startRound();
    turn.appendText('Let me check.', 0);
    turn.requestTools([call('c1')], () => 'server');
    turn.toolSettled('c1', { ok: true, result: 'noon' });
    turn.startRound();
    turn.appendText('It is noon, time for lunch.', 1);
    const messages = messagesOf(turn, { kind: 'interrupted', reason: 'X', heardText: 'Let me check. It is noon' });
    expect(messages.at(1)).toMatchObject({ content: 'Let me check.' });
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: 'It is noon' });
  });

  it('marks a turn cut before it said anything', () => {
    const turn = new Turn('r1', 'hi');
    expect(messagesOf(turn, { kind: 'interrupted', reason: 'X' })).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '' },
    ]);
    expect(turn.toHistory({ kind: 'failed' }).at(-1)?.failed).toBe(true);
  });

  it('keeps out of the history the text deltas that were dropped unsent, across model calls', () => {
    const turn = new Turn('r1', 'time?');
    turn.startRound();
    turn.appendText('Let me ', 0);
    turn.appendText('check.', 1);
    turn.requestTools([call('c1')], () => 'server');
    turn.toolSettled('c1', { ok: true, result: 'noon' });
    turn.startRound();
    turn.appendText('It is ', 2);
    turn.appendText('noon.', 3);
    turn.retractText([1, 2, 3]);
    expect(messagesOf(turn, { kind: 'interrupted', reason: 'X' })).toEqual([
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: 'Let me ', tool_calls: [call('c1')] },
      { role: 'tool', tool_call_id: 'c1', content: '"noon"' },
      { role: 'assistant', content: '' },
    ]);
  });
});
