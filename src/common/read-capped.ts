/** The start of a body (an error's, for the logs), at most `maxBytes`; the rest is dropped with the connection. */
export async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) break;
    }
  } catch {
    // The status is the error; a body cut short only costs detail.
  }
  return Buffer.concat(parts).subarray(0, maxBytes).toString('utf8');
}
