/**
 * A model's tool arguments are JSON text; the APIs that want an object
 * (Anthropic's `input`, Ollama's `arguments`) get it parsed. Text that is not
 * JSON (a call cut short, a model's slip) is passed as `{arguments: text}`
 * rather than lost.
 */
export function parseToolArguments(text: string): unknown {
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { arguments: text };
  }
}
