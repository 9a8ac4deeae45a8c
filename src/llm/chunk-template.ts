import type { LlmEvent } from './llm-events.js';

interface Template {
  /** The chunk's text before and after its content string, as the upstream wrote it. */
  prefix: string;
  suffix: string;
  /** The same with the client's id and model written in. */
  renamedPrefix: string;
  renamedSuffix: string;
}

/** The text and events of a chunk passed on through a template. */
export interface TemplateMatch {
  data: string;
  events: LlmEvent[];
}

const CONTENT_KEY = '"content":';

/** A JSON string with nothing to unescape: its value is what is between its quotes. */
// JSON forbids raw control characters in a string: one here means the chunk is not JSON, for the parse to say.
// eslint-disable-next-line no-control-regex
const PLAIN_STRING = /^"[^"\\\u0000-\u001f]*"$/;

/**
 * Most chunks of a stream are the one before with other words: the same id,
 * model, `created` and choice around another content string. A chunk that
 * begins and ends as the last content chunk parsed did, with exactly one JSON
 * string between, means what that one meant with this string as its content;
 * it is passed on with only the string read, not the whole chunk parsed and
 * renamed (in a profile of unpaced streams, those took about a sixth of the relay's CPU). Anything else is parsed as
 * before, and a chunk that carries content alone becomes the new template.
 */
export class ChunkTemplate {
  private template?: Template;

  /** The chunk renamed, and its events, if it fits the template. */
  match(data: string): TemplateMatch | undefined {
    const template = this.template;
    if (!template || !data.startsWith(template.prefix) || !data.endsWith(template.suffix)) return undefined;
    const literal = data.slice(template.prefix.length, data.length - template.suffix.length);
    const text = stringValue(literal);
    if (text === undefined) return undefined;
    return { data: template.renamedPrefix + literal + template.renamedSuffix, events: text === '' ? [] : [{ type: 'text', text }] };
  }

  /** A chunk that was parsed, as it came and renamed, with its events: learnt when it carries content alone. */
  learn(data: string, renamed: string, events: readonly LlmEvent[]): void {
    const [event] = events;
    if (events.length !== 1 || event.type !== 'text') return;
    const content = `${CONTENT_KEY}${JSON.stringify(event.text)}`;
    const at = onlyIndexOf(data, content);
    const renamedAt = onlyIndexOf(renamed, content);
    // Written otherwise (Unicode escapes, spaces): every chunk is parsed.
    if (at < 0 || renamedAt < 0) {
      this.template = undefined;
      return;
    }
    const end = (text: string, from: number) => text.slice(from + content.length);
    this.template = {
      prefix: data.slice(0, at + CONTENT_KEY.length),
      suffix: end(data, at),
      renamedPrefix: renamed.slice(0, renamedAt + CONTENT_KEY.length),
      renamedSuffix: end(renamed, renamedAt),
    };
  }
}

/** The value of `text` when it is exactly one JSON string, else undefined. */
function stringValue(text: string): string | undefined {
  if (PLAIN_STRING.test(text)) return text.slice(1, -1);
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function onlyIndexOf(text: string, part: string): number {
  const at = text.indexOf(part);
  return at >= 0 && text.indexOf(part, at + 1) < 0 ? at : -1;
}
