/** A connection a fake server recorded: when its socket closed, and whether it ran to its natural end. */
export interface RecordedConnection {
  label: string;
  socketClosed: Promise<number>;
  ranToEnd: () => boolean;
}

/**
 * Asserts that the gateway cut this connection: its socket closed within
 * `withinMs` of `since` (a `performance.now()` value) before it ran to its
 * end. Rejects as soon as the window has passed, rather than waiting for a
 * close that a keep-alive timeout or the end of the work would cause anyway.
 */
export async function expectClosedWithin(connection: RecordedConnection, since: number, withinMs: number): Promise<number> {
  const deadline = since + withinMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${connection.label} still open ${withinMs} ms after the stop`)),
      Math.max(0, deadline - performance.now()),
    );
  });
  const closedAt = await Promise.race([connection.socketClosed, timeout]).finally(() => clearTimeout(timer));
  if (connection.ranToEnd()) throw new Error(`${connection.label} ran to its end instead of being cut`);
  if (closedAt > deadline) throw new Error(`${connection.label} closed ${closedAt - since} ms after the stop`);
  return closedAt - since;
}
