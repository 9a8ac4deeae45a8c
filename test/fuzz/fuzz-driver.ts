import type { ErrorCode } from '@agent-gateway/protocol';
import { TestClient } from '../support/test-client.js';
import type { HostileFrame } from './hostile-frames.js';

/** What came back for frames that were answered otherwise than expected. */
export interface Mismatch {
  what: string;
  expected: ErrorCode;
  got: string;
  excerpt: string;
}

/**
 * Sends a batch of hostile frames on a registered connection, then a
 * HEARTBEAT; answers come in order, so the ERRORs before the HEARTBEAT's
 * answer are the batch's, one each. Returns what did not match.
 */
export async function sendBatch(client: TestClient, frames: readonly HostileFrame[]): Promise<Mismatch[]> {
  const from = client.received.length;
  for (const frame of frames) client.sendRaw(typeof frame.data === 'string' ? frame.data : Buffer.from(frame.data));
  client.send('HEARTBEAT', {});
  await client.waitFor('HEARTBEAT', () => true, { from, timeoutMs: 10_000 });
  const answers = client.received.slice(from).map((r) => r.frame);
  const heartbeat = answers.findIndex((f) => f.msg_type === 'HEARTBEAT');
  const errors = answers.slice(0, heartbeat).map((f) => (f.msg_type === 'ERROR' ? (f.payload as { code: string }).code : f.msg_type));
  const mismatches: Mismatch[] = [];
  for (const [i, frame] of frames.entries()) {
    const got = errors[i] ?? 'nothing';
    if (got !== frame.code) mismatches.push({ what: frame.what, expected: frame.code, got, excerpt: excerpt(frame.data) });
  }
  if (errors.length > frames.length) {
    mismatches.push({ what: 'extra answers', expected: 'INVALID_MESSAGE', got: errors.slice(frames.length).join(','), excerpt: '' });
  }
  return mismatches;
}

/** A fresh connection sends one frame before registering: one ERROR, then the close. */
export async function sendUnregistered(wsUrl: string, frame: HostileFrame): Promise<Mismatch | undefined> {
  const client = await TestClient.connect(wsUrl);
  client.sendRaw(typeof frame.data === 'string' ? frame.data : Buffer.from(frame.data));
  const closed = await Promise.race([
    client.closed,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000).unref()),
  ]);
  const codes = client.frames('ERROR').map((f) => f.payload.code);
  const got =
    closed === undefined
      ? 'not closed'
      : codes.length === 1 && closed.reason === codes[0]
        ? codes[0]
        : `${codes.join(',')} then close ${closed.code} ${closed.reason}`;
  client.close();
  return got === frame.code ? undefined : { what: frame.what, expected: frame.code, got, excerpt: excerpt(frame.data) };
}

/** The longest time between two frames of a request's reply, from `since` on. */
export function longestGap(client: TestClient, requestId: string, since: number): number {
  const times = client.received
    .filter(
      (r) => r.at >= since && r.frame.msg_type === 'RESPONSE' && (r.frame.payload as { request_id?: string }).request_id === requestId,
    )
    .map((r) => r.at);
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
  return longest;
}

function excerpt(data: string | Uint8Array): string {
  return typeof data === 'string' ? data.slice(0, 120) : `<${data.length} binary bytes>`;
}
