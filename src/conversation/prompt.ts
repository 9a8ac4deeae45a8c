import type { ChatMessage } from '@agent-gateway/protocol';
import type { StoredMessage } from './stored-message.js';

const NOTE_TAIL_CHARS = 80;

/**
 * The messages a new turn starts from: the system prompt, the history, and —
 * when the previous turn was interrupted — one short system note saying
 * where it was cut, so the model neither repeats nor assumes what the user
 * never got.
 */
export function promptFromHistory(systemPrompt: string, history: StoredMessage[]): ChatMessage[] {
  const messages: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
  for (const stored of history) {
    const { message } = stored;
    // The mark of a turn cut before it said anything; the note below tells the model instead.
    if (message.role === 'assistant' && !message.content && !message.tool_calls) continue;
    messages.push(message);
  }
  const last = history.at(-1);
  if (last?.interrupted) messages.push({ role: 'system', content: interruptionNote(last) });
  return messages;
}

function interruptionNote(stored: StoredMessage): string {
  const { message } = stored;
  const text = message.role === 'assistant' ? (message.content ?? '').trim() : '';
  const verb = stored.interrupted?.kept === 'heard' ? 'heard' : 'received';
  if (!text) return `Your previous answer was interrupted by the user before they ${verb} any of it.`;
  const tail = text.length > NOTE_TAIL_CHARS ? `…${text.slice(-NOTE_TAIL_CHARS)}` : text;
  return `Your previous answer was interrupted by the user; they ${verb} it only up to: "${tail}"`;
}
