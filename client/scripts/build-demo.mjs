import { buildDemo } from './demo-bundle.mjs';

await buildDemo();
