import { readFileSync } from 'node:fs';

/** The package version, read once; the same file sits two levels above both src/common/ and dist/common/. */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
