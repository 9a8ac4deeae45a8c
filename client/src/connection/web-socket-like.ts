/**
 * What the client needs of a WebSocket. The browser's WebSocket fits, and so
 * does the `ws` package's in Node (Node 20 has no global WebSocket).
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  /** Text for JSON envelopes, bytes for binary frames (microphone audio). */
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: SocketEvent) => void): void;
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: SocketEvent) => void): void;
}

/** The parts of the open, message, close and error events the client reads. */
export interface SocketEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

/** WebSocket.OPEN, which the `ws` package also uses. */
export const SOCKET_OPEN = 1;
