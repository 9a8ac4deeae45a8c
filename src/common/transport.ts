/** How a request reached the gateway: a WebSocket REQUEST, a REST task, a chat completion over HTTP. */
export const TRANSPORTS = ['ws', 'task', 'http'] as const;
export type Transport = (typeof TRANSPORTS)[number];
