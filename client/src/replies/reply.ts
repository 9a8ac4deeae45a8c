import { filter, lastValueFrom, map, Observable, reduce } from 'rxjs';
import type { InterruptAckPayload, EndPayload } from '@agent-gateway/protocol';
import { iterate } from './observable-iterator.js';
import type { ReplyFrame } from './reply-frame.js';

/** What an INTERRUPT came to. */
export interface InterruptOutcome {
  ack: InterruptAckPayload;
  /** INTERRUPT sent → INTERRUPT_ACK received, on this client's clock. */
  ackMs: number;
}

/**
 * Who started a request: this client (request(), ask(), an utterance), the
 * session before this client resumed it or on another of its sockets
 * (`adopted`), or the gateway, from what the user said hands-free (`speech`).
 */
export type ReplyOrigin = 'client' | 'adopted' | 'speech';

/**
 * One request's reply. It is an Observable of its frames — every subscriber
 * gets all of them from the first, whenever it subscribes — and an async
 * iterable of the same. It completes after the end frame; it errors when the
 * gateway refused the request (GatewayError), the session was lost
 * (SessionLostError) or the client closed (ClientClosedError).
 */
export class Reply extends Observable<ReplyFrame> implements AsyncIterable<ReplyFrame> {
  constructor(
    readonly requestId: string,
    frames$: Observable<ReplyFrame>,
    private readonly control: {
      interrupt: (reason: string) => Promise<InterruptOutcome>;
      interrupted: () => boolean;
    },
    readonly origin: ReplyOrigin = 'client',
  ) {
    super((subscriber) => frames$.subscribe(subscriber));
  }

  /** The client did not send this request: it found it running when it resumed the session, or another socket of the session sent it. */
  get adopted(): boolean {
    return this.origin === 'adopted';
  }

  /** The user stopped it: from that moment its text, audio and tool frames are dropped, only the end frame still comes. */
  get interrupted(): boolean {
    return this.control.interrupted();
  }

  /** The text deltas, as they arrive. */
  get text$(): Observable<string> {
    return this.pipe(
      filter((frame) => frame.kind === 'text'),
      map((frame) => frame.text),
    );
  }

  /** Resolves with the end frame. */
  ended(): Promise<EndPayload> {
    return lastValueFrom(
      this.pipe(
        filter((frame) => frame.kind === 'end'),
        map((frame) => frame.end),
      ),
    );
  }

  /** Resolves with all the text, once the reply has ended (up to the interrupt, for an interrupted one). */
  text(): Promise<string> {
    return lastValueFrom(this.text$.pipe(reduce((all, text) => all + text, '')));
  }

  /** Stops this request (see GatewayClient.interrupt). */
  interrupt(reason = 'USER_INTERRUPT'): Promise<InterruptOutcome> {
    return this.control.interrupt(reason);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ReplyFrame> {
    return iterate(this);
  }
}
