import type { HistoryMessage } from '../src/index.js';
import { element } from './dom.js';

/** The conversation as the gateway stores it for the model. */
export class HistoryPanel {
  constructor(private readonly list: HTMLOListElement) {}

  show(messages: HistoryMessage[]): void {
    this.list.replaceChildren(...messages.map(item));
  }
}

function item(message: HistoryMessage): HTMLLIElement {
  const li = element('li', {}, element('span', { className: 'role', text: message.role }), document.createTextNode(contentOf(message)));
  li.dataset.role = message.role;
  if (message.interrupted) {
    li.dataset.interrupted = message.interrupted.kept;
    li.append(
      element('span', {
        className: 'interrupted',
        text: `interrupted (${message.interrupted.reason}) · kept what was ${message.interrupted.kept}`,
      }),
    );
  }
  if (message.failed) li.append(element('span', { className: 'interrupted', text: 'failed' }));
  return li;
}

function contentOf(message: HistoryMessage): string {
  if (message.role === 'assistant' && message.tool_calls?.length)
    return `calls ${message.tool_calls.map((c) => c.function.name).join(', ')}`;
  return message.content ?? '';
}
