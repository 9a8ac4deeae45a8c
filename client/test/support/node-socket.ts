import WebSocket from 'ws';
import type { WebSocketFactory } from '../../src/index.js';

/** Node 20 has no global WebSocket: the SDK takes the `ws` package's, as its users in Node do. */
export const nodeSocket: WebSocketFactory = (url) => new WebSocket(url);
