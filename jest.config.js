/** Jest runs the TypeScript sources as ES modules (NestJS 12 ships ESM only). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '(src/.*\\.spec|test/.*\\.e2e-spec|client/test/.*\\.spec)\\.ts$',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
  // Builds dist/ (some tests run the gateway as processes: several instances, signals) and the demo page's bundle.
  globalSetup: './test/global-setup.js',
};
