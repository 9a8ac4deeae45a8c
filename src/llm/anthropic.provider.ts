import type { Observable } from 'rxjs';
import { AnthropicDecoder, messageEvents } from './anthropic-events.js';
import { anthropicBody } from './anthropic-request.js';
import type { LlmDescriptor, LlmEvent, LlmRequest } from './llm-events.js';
import { LlmProvider } from './llm-provider.js';
import { partsToEvents } from './parts-to-events.js';
import type { CallOptions, RelayBody, RelayPart, WireFormat } from './relay-part.js';
import { renamed } from './rename.js';
import { UpstreamCaller, type UpstreamTimeouts } from './upstream-call.js';

export interface AnthropicOptions extends UpstreamTimeouts {
  /** `https://api.anthropic.com`, or a compatible endpoint (DashScope's `…/apps/anthropic`); `/v1/messages` is added. */
  baseUrl: string;
  apiKey: string;
  model: string;
}

/** The API version the gateway speaks when the client named none. */
const ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic's Messages API, natively: `x-api-key`, `anthropic-version`, its event stream; each call cold and aborted on teardown. */
export class AnthropicProvider extends LlmProvider {
  readonly descriptor: LlmDescriptor;
  override readonly relays: readonly WireFormat[] = ['anthropic-messages'];
  private readonly caller: UpstreamCaller;

  constructor(private readonly options: AnthropicOptions) {
    super();
    this.descriptor = { provider: 'anthropic', model: options.model, simulated: false };
    this.caller = new UpstreamCaller(options);
  }

  stream(request: LlmRequest, options?: CallOptions): Observable<LlmEvent> {
    const body = anthropicBody(request, request.model ?? this.options.model) as RelayBody;
    return this.relay('anthropic-messages', body, options).pipe(partsToEvents);
  }

  override relay(_format: WireFormat, body: RelayBody, options: CallOptions = {}): Observable<RelayPart> {
    const { rename } = options;
    return this.caller.call({
      url: `${this.options.baseUrl}/v1/messages`,
      headers: {
        'anthropic-version': options.headers?.['anthropic-version'] ?? ANTHROPIC_VERSION,
        ...(this.options.apiKey && { 'x-api-key': this.options.apiKey }),
      },
      body,
      streaming: body.stream === true,
      options,
      secrets: [this.options.apiKey],
      whole: (answer) => ({ type: 'response', events: messageEvents(answer), body: renamed(answer, rename) }),
      decoder: () => new AnthropicDecoder(rename),
    });
  }

  override close(): Promise<void> {
    return this.caller.destroy();
  }
}
