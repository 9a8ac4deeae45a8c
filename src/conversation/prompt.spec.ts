import { promptFromHistory } from './prompt.js';
import type { StoredMessage } from './stored-message.js';

describe('promptFromHistory', () => {
  it('puts the system prompt first and passes the history on', () => {
    const history: StoredMessage[] = [
      { message: { role: 'user', content: 'hi' }, request_id: 'r1', at: 0 },
      { message: { role: 'assistant', content: 'hello' }, request_id: 'r1', at: 0 },
    ];
    expect(promptFromHistory('Be brief.', history)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
  });

  it('tells the model in one note where its previous answer was cut', () => {
    const history: StoredMessage[] = [
      { message: { role: 'user', content: 'story' }, request_id: 'r1', at: 0 },
      {
        message: { role: 'assistant', content: 'Once upon a time' },
        request_id: 'r1',
        at: 0,
        interrupted: { reason: 'USER_NEW_INPUT', kept: 'heard' },
      },
    ];
    expect(promptFromHistory('', history).at(-1)).toEqual({
      role: 'system',
      content: 'Your previous answer was interrupted by the user; they heard it only up to: "Once upon a time"',
    });
  });

  it('leaves out the empty mark of a turn cut before it said anything', () => {
    const history: StoredMessage[] = [
      { message: { role: 'user', content: 'story' }, request_id: 'r1', at: 0 },
      { message: { role: 'assistant', content: '' }, request_id: 'r1', at: 0, interrupted: { reason: 'X', kept: 'delivered' } },
    ];
    expect(promptFromHistory('', history)).toEqual([
      { role: 'user', content: 'story' },
      { role: 'system', content: 'Your previous answer was interrupted by the user before they received any of it.' },
    ]);
  });
});
