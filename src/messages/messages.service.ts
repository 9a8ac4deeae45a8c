import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { map } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { ModelRouter } from '../llm/model-router.js';
import type { RelayPart } from '../llm/relay-part.js';
import { countPromptTokens, countPromptTokensYielding } from '../llm/token-count.js';
import { collectEvents, encodeEvents } from '../model-calls/event-frames.js';
import { ModelCalls } from '../model-calls/model-call.service.js';
import { accountingOf, type WirePart } from '../model-calls/wire-api.js';
import { ANTHROPIC_MESSAGES } from './anthropic-messages.api.js';
import { anthropicMessage, MessageStreamEncoder } from './message-frames.js';
import type { CountTokensBody, MessagesBody } from './messages-body.js';
import { messagesRequest } from './messages-request.js';
import { sseFrame } from '../model-calls/sse-frame.js';

/**
 * Anthropic's Messages API, over ModelCalls. An upstream that speaks it
 * (Anthropic, or a compatible endpoint) gets the client's body as it came,
 * its model name mapped, and the client its events as they came, renamed;
 * any other is reached through the gateway's events and written back as
 * Anthropic's stream.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly calls: ModelCalls,
    private readonly router: ModelRouter,
  ) {}

  create(body: MessagesBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.router.route(body.model);
    // Anthropic's ids are `msg_` and 24 characters; the gateway's are longer, and as random as its others.
    const requestId = `msg_${randomBytes(16).toString('hex')}`;
    const streaming = body.stream === true;
    const request = messagesRequest(body, route.model);
    const relayed = route.provider.relays.includes('anthropic-messages');
    this.calls.run(
      {
        api: ANTHROPIC_MESSAGES,
        route,
        requestId,
        streaming,
        ...accountingOf(request),
        parts: (options) => {
          if (relayed) return route.provider.relay('anthropic-messages', { ...body, model: route.model }, options).pipe(map(messagePart));
          const inputTokens = () => countPromptTokens(request.messages, request.tools);
          // Counted while the upstream thinks (a long history takes milliseconds), not on the way to the first token:
          // message_start, which needs the figure, goes out with the upstream's first event, and finds it counted.
          setImmediate(inputTokens);
          const head = {
            id: requestId,
            model: route.name,
            get estimatedInputTokens() {
              return inputTokens();
            },
          };
          const events$ = route.provider.stream(request, options);
          return streaming
            ? encodeEvents(events$, new MessageStreamEncoder(head))
            : collectEvents(events$, (events) => anthropicMessage(head, events));
        },
      },
      identity,
      req,
      res,
    );
  }

  /** The prompt's tokens as the gateway counts them (OpenAI's tokenizer): close to, not exactly, what Anthropic's would say. */
  async countTokens(body: CountTokensBody): Promise<{ input_tokens: number }> {
    const route = this.router.route(body.model);
    const request = messagesRequest(body, route.model);
    return { input_tokens: await countPromptTokensYielding(request.messages, request.tools) };
  }
}

/** An upstream's event as the client gets it: under its own name, for Anthropic's SDKs skip events without one. */
function messagePart(part: RelayPart): WirePart {
  if (part.type === 'response') return { type: 'whole', body: part.body, events: part.events };
  return { type: 'frame', data: sseFrame(part.data, part.event), events: part.events };
}
