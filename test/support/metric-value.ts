/** A metric's value as the gateway at `httpUrl` serves it on /metrics (the first line that starts with `name`), or undefined. */
export async function metricValue(httpUrl: string, name: string): Promise<string | undefined> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return text
    .split('\n')
    .find((line) => line.startsWith(name))
    ?.split(' ')
    .at(-1);
}
