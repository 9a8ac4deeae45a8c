import type { EventSourceMessage } from 'eventsource-parser';
import type { Observable } from 'rxjs';
import { chunkEvents, completionEvents, parseChunk } from './chat-completion-chunk.js';
import { ChunkTemplate } from './chunk-template.js';
import { isObject } from './upstream-json.js';
import type { LlmDescriptor, LlmEvent, LlmRequest, ProviderUsage } from './llm-events.js';
import { LlmProvider } from './llm-provider.js';
import { partsToEvents } from './parts-to-events.js';
import type { CallOptions, RelayBody, RelayPart, WireFormat } from './relay-part.js';
import { needsRename, renamed, renamedText } from './rename.js';
import { type StreamDecoder, UpstreamCaller, type UpstreamTimeouts } from './upstream-call.js';

export interface OpenAiCompatibleOptions extends UpstreamTimeouts {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/** Any OpenAI-compatible `POST /chat/completions` (and `/embeddings`), each call cold and aborted on teardown (see UpstreamCaller). */
export class OpenAiCompatibleProvider extends LlmProvider {
  readonly descriptor: LlmDescriptor;
  override readonly relays: readonly WireFormat[] = ['openai-chat', 'openai-embeddings'];
  private readonly caller: UpstreamCaller;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    super();
    this.descriptor = { provider: 'openai-compatible', model: options.model, simulated: false };
    this.caller = new UpstreamCaller(options);
  }

  stream(llmRequest: LlmRequest, options?: CallOptions): Observable<LlmEvent> {
    const { params } = llmRequest;
    const body: RelayBody = {
      model: llmRequest.model ?? this.options.model,
      messages: llmRequest.messages,
      ...(llmRequest.tools?.length && { tools: llmRequest.tools }),
      ...(params?.maxTokens !== undefined && { max_tokens: params.maxTokens }),
      ...(params?.temperature !== undefined && { temperature: params.temperature }),
      ...(params?.topP !== undefined && { top_p: params.topP }),
      ...(params?.stop?.length && { stop: params.stop }),
      stream: true,
    };
    return this.relay('openai-chat', body, options).pipe(partsToEvents);
  }

  /** Passes a client's body on. A stream always asks for usage, so even a cut one is accounted for. */
  override relay(format: WireFormat, body: RelayBody, options: CallOptions = {}): Observable<RelayPart> {
    const embeddings = format === 'openai-embeddings';
    const streaming = !embeddings && body.stream === true;
    const { rename } = options;
    return this.caller.call({
      url: `${this.options.baseUrl}${embeddings ? '/embeddings' : '/chat/completions'}`,
      headers: this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {},
      body: streaming ? { ...body, stream_options: { ...(body.stream_options as object | undefined), include_usage: true } } : body,
      streaming,
      options,
      secrets: [this.options.apiKey],
      whole: (answer) => {
        const events = embeddings ? embeddingEvents(answer) : completionEvents(answer);
        return { type: 'response', body: renamed(answer, rename), events };
      },
      decoder: () => new ChunkDecoder(rename),
    });
  }

  override close(): Promise<void> {
    return this.caller.destroy();
  }
}

/** `chat.completion.chunk` events until `[DONE]`. */
class ChunkDecoder implements StreamDecoder {
  done = false;
  finished = false;
  private readonly template = new ChunkTemplate();

  constructor(private readonly rename: CallOptions['rename']) {}

  event(message: EventSourceMessage): RelayPart | undefined {
    if (message.data.trim() === '[DONE]') {
      this.done = true;
      return undefined;
    }
    const fitted = this.template.match(message.data);
    if (fitted) return { type: 'chunk', ...fitted };
    const chunk = parseChunk(message.data);
    const events = chunkEvents(chunk);
    if (events.some((event) => event.type === 'finish')) this.finished = true;
    const data = needsRename(chunk, this.rename) ? renamedText(message.data, chunk, this.rename) : message.data;
    this.template.learn(message.data, data, events);
    return { type: 'chunk', data, events };
  }
}

/** Embeddings bill only their input: the usage, as the one event. */
function embeddingEvents(body: Record<string, unknown>): LlmEvent[] {
  if (!isObject(body.usage)) return [];
  const prompt = typeof body.usage.prompt_tokens === 'number' ? body.usage.prompt_tokens : 0;
  const usage: ProviderUsage = { prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt };
  return [{ type: 'usage', usage }];
}
