import type { ReplyEvent } from './reply-events.js';
import type { RequestContext } from './request-context.js';

/** Each event of a running reply, as the frames its session sends (and the turn records). */
export function forwardReplyEvent(event: ReplyEvent, { session, request, turn, frames, log }: RequestContext): void {
  switch (event.source) {
    case 'llm': {
      request.usage.observe(event.event);
      const frame = frames.delta(event.event);
      if (!frame) return;
      const seq = frame.text_stream_seq;
      if ('text' in frame.content) turn.appendText(frame.content.text, seq);
      session.send('RESPONSE', frame, { lane: 'text', request, content: { kind: 'text', seq } });
      return;
    }
    case 'tool':
      session.send('TOOL_STATUS', event.status, { lane: 'text', request });
      return;
    case 'speech': {
      if (event.event.type === 'segment-end') return frames.segmentEnded(event.event.segment);
      const frame = frames.audio(event.event.chunk);
      if (frame.kind === 'binary') return session.sendAudio(request, frame.voiceStreamSeq, frame.audio);
      const content = { kind: 'audio' as const, seq: frame.payload.voice_stream_seq };
      session.send('RESPONSE', frame.payload, { lane: 'audio', request, content });
      return;
    }
    case 'speech-failed':
      log.warn({ detail: event.error.detail }, 'speech failed; the reply goes on as text');
      frames.speechFailed(event.error.code);
      session.send('ERROR', event.error.toPayload(request.id), { lane: 'text', request });
  }
}
