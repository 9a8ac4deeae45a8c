import type { EndPayload } from '@agent-gateway/protocol';
import { jsonFrame } from './outbound-frame.js';

describe('jsonFrame', () => {
  it('counts its size in bytes, as the socket will, also for text beyond ASCII', () => {
    const frame = jsonFrame(
      'RESPONSE',
      { request_id: 'r1', text_stream_seq: 0, content: { text: '你好，世界。Grüße! 🎉'.repeat(50) } },
      'sess_1',
    );
    // A ten-digit number fills exactly the room kept for it.
    const data = frame.render(1_234_567_890) as string;
    expect(frame.size).toBe(Buffer.byteLength(data));
    expect(frame.size).toBeGreaterThan(data.length);
  });

  it('writes an end frame as it leaves, so that its counts may still be lowered while it waits', () => {
    const end: EndPayload = {
      request_id: 'r1',
      text_stream_seq: -1,
      voice_stream_seq: -1,
      content: {},
      interrupted: false,
      usage: { prompt_tokens: null, completion_tokens: 0, total_tokens: null, source: 'estimated' },
      timing: { first_token_ms: null, total_ms: 1 },
      voice_frames: 12,
    };
    const frame = jsonFrame('RESPONSE', end, 'sess_1', { content: { kind: 'end' } });
    end.voice_frames = 3;
    const data = frame.render(1) as string;
    expect((JSON.parse(data) as { payload: { voice_frames: number } }).payload.voice_frames).toBe(3);
    expect(frame.size).toBeGreaterThanOrEqual(Buffer.byteLength(data));
  });
});
