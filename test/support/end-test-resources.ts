import { fileEnded, testEnded, testStarted } from './test-resources.js';

// jest's setupFilesAfterEnv: these root hooks wrap every test's own (beforeEach outermost first,
// afterEach outermost last), so a test's clean-up runs first and this one ends what it missed.
beforeEach(testStarted);
afterEach(testEnded);
afterAll(fileEnded);
