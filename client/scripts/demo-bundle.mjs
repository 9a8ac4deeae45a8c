import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const demo = fileURLToPath(new URL('../demo/', import.meta.url));
/** Where the gateway serves the demo from (src/demo/demo.controller.ts). */
export const DEMO_OUT = fileURLToPath(new URL('../dist/demo/', import.meta.url));

/** Bundles the demo page (the SDK, the protocol and RxJS in one ES module) next to its HTML and CSS. */
export async function buildDemo() {
  await mkdir(DEMO_OUT, { recursive: true });
  await build({
    entryPoints: [`${demo}main.ts`],
    outfile: `${DEMO_OUT}demo.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  await Promise.all(['index.html', 'demo.css'].map((file) => copyFile(`${demo}${file}`, `${DEMO_OUT}${file}`)));
}
