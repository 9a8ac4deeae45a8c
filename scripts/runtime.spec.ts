import { readFileSync } from 'node:fs';
import semver from 'semver';
import { minimumVersion, shippedVersion } from './runtime.mjs';

const read = (path: string): string => readFileSync(path, 'utf8');
const json = (path: string): Record<string, unknown> => JSON.parse(read(path)) as Record<string, unknown>;
const shipped = shippedVersion() as string;
const major = semver.major(shipped);

/** The Node.js we ship is the one every place names, and the one these tests run on. */
describe('the runtime we ship is the runtime we test', () => {
  it('is the major of every stage of the Docker image, of .nvmrc, and of this test run', () => {
    const stages = [...read('Dockerfile').matchAll(/^FROM\s+node:(\d+)-/gm)].map((m) => Number(m[1]));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stages)).toEqual(new Set([major]));
    expect(read('.nvmrc').trim()).toBe(String(major));
    expect(process.versions.node).toBe(shipped);
  });

  it('is admitted by engines, which the lock file records alike, for the gateway and its SDK', () => {
    const engines = (json('package.json').engines as { node: string }).node;
    expect(semver.satisfies(shipped, engines)).toBe(true);
    expect(minimumVersion()).toEqual([semver.minVersion(engines)!.major, semver.minVersion(engines)!.minor]);
    const locked = json('package-lock.json').packages as Record<string, { engines?: { node?: string } }>;
    expect(locked[''].engines?.node).toBe(engines);
    const sdkEngines = (json('client/package.json').engines as { node: string }).node;
    expect(locked['client'].engines?.node).toBe(sdkEngines);
    expect(semver.satisfies(shipped, sdkEngines)).toBe(true);
  });

  it('satisfies the engines of every locked package (npm ci warns EBADENGINE for none)', () => {
    const locked = json('package-lock.json').packages as Record<string, { engines?: { node?: string } | string[] }>;
    const refusing = Object.entries(locked)
      .map(([path, entry]) => [path, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
      .filter(([, range]) => range !== undefined && !semver.satisfies(shipped, range));
    expect(refusing).toEqual([]);
  });
});
