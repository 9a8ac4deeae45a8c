/**
 * One server-sent event as the client APIs write it: `data` is one line of
 * JSON (JSON.stringify never writes a newline), under its `event:` name when
 * the API names its events (Anthropic's, the Responses API's).
 */
export function sseFrame(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
