/** The protocol, one source for the server, the tests and the client SDK. */
export * from './envelope.js';
export * from './error-codes.js';
export * from './client-messages.js';
export * from './server-messages.js';
export * from './voice-messages.js';
export * from './input-audio-frame.js';
export * from './binary-audio-frame.js';
export * from './chat.js';
