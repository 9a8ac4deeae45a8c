import type { WebSocket } from 'ws';

/**
 * One listener for every socket: ws calls a listener with its socket as
 * `this`, so `handle` gets the socket without a closure per socket, which an
 * idle connection would carry for its whole life.
 */
export function socketListener<A extends unknown[]>(
  handle: (socket: WebSocket, ...args: A) => void,
): (this: WebSocket, ...args: A) => void {
  return function (this: WebSocket, ...args: A): void {
    handle(this, ...args);
  };
}
