import type { Observable } from 'rxjs';
import type { CallOptions, RelayBody, RelayPart, WireFormat } from './relay-part.js';
import type { LlmDescriptor, LlmEvent, LlmRequest } from './llm-events.js';

/**
 * An upstream model. `stream()` returns a cold Observable: nothing is sent
 * before it is subscribed, and unsubscribing tears the call down (aborts the
 * HTTP request, which closes its connection). It errors with an UpstreamError.
 */
export abstract class LlmProvider {
  abstract readonly descriptor: LlmDescriptor;
  abstract stream(request: LlmRequest, options?: CallOptions): Observable<LlmEvent>;

  /** The wire formats this provider speaks itself (see relay()). */
  readonly relays: readonly WireFormat[] = [];

  /** Lets go of the provider's connections, at shutdown. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A client's body in one of `relays`, passed on: cold and torn down like
   * `stream()`. Only called for a format the provider lists.
   */
  relay(format: WireFormat, _body: RelayBody, _options?: CallOptions): Observable<RelayPart> {
    throw new Error(`${this.descriptor.provider} does not relay ${format}`);
  }
}
