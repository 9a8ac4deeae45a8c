import type { CallOptions } from './relay-part.js';

/** The client's model name and the gateway's id written over the upstream's, so the answer names what the client asked for. */
export function renamed(value: Record<string, unknown>, rename: CallOptions['rename']): Record<string, unknown> {
  if (!rename) return value;
  if ('id' in value && value.id !== rename.id) value.id = rename.id;
  if ('model' in value && value.model !== rename.model) value.model = rename.model;
  return value;
}

/**
 * Whether renamed() would change `value`. A real upstream's chunk always
 * carries its own id, so a relayed chunk is written again (a few µs): the
 * client's `id` must be the `x-request-id` it got.
 */
export function needsRename(value: Record<string, unknown>, rename: CallOptions['rename']): rename is NonNullable<CallOptions['rename']> {
  return rename !== undefined && (('id' in value && value.id !== rename.id) || ('model' in value && value.model !== rename.model));
}

/**
 * The chunk's text with the client's id and model written in. Servers write
 * `"id":"…"` and `"model":"…"` compactly, so the values are swapped in the
 * text as it came, without writing the whole chunk again; a chunk written
 * otherwise is.
 */
export function renamedText(data: string, chunk: Record<string, unknown>, rename: NonNullable<CallOptions['rename']>): string {
  let text = data;
  for (const [field, value] of [
    ['id', rename.id],
    ['model', rename.model],
  ] as const) {
    if (!(field in chunk) || chunk[field] === value) continue;
    const from = `"${field}":${JSON.stringify(chunk[field])}`;
    const at = text.indexOf(from);
    if (typeof chunk[field] !== 'string' || at < 0) return JSON.stringify(renamed(chunk, rename));
    text = text.slice(0, at) + `"${field}":${JSON.stringify(value)}` + text.slice(at + from.length);
  }
  return text;
}
