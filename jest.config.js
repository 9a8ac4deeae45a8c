/**
 * Jest runs the TypeScript sources as ES modules (NestJS 12 ships ESM only),
 * in four projects: `npm run test:quick` runs the first two, `npm test` all.
 */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^@agent-gateway/protocol$': '<rootDir>/protocol/src/index.ts' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // Whatever a test starts ends with it, whether it passed, failed or timed out.
  setupFilesAfterEnv: ['<rootDir>/test/support/end-test-resources.ts'],
};

export default {
  projects: [
    { ...base, displayName: 'unit', testRegex: '(src/.*\\.spec|client/test/.*\\.spec|protocol/test/.*\\.spec|scripts/.*\\.spec)\\.ts$' },
    { ...base, displayName: 'e2e', testRegex: 'test/[^/]+\\.e2e-spec\\.ts$' },
    // The built gateway as processes (signals, several instances, nginx, Redis servers killed).
    { ...base, displayName: 'processes', testRegex: 'test/processes/.*\\.e2e-spec\\.ts$' },
    // Debian's headless Chromium.
    { ...base, displayName: 'browser', testRegex: 'test/browser/.*\\.e2e-spec\\.ts$' },
  ],
  // Never in band (one worker would be): a test file that leaks a handle cannot keep the run alive,
  // its worker is ended once the run is over.
  maxWorkers: 2,
  testTimeout: 20000,
  // Builds dist/ (for the processes) and the demo page's bundle (for the browser).
  globalSetup: './test/global-setup.js',
};
