import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { map } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import type { LlmMessage } from '../llm/llm-events.js';
import { ModelRouter } from '../llm/model-router.js';
import type { RelayPart } from '../llm/relay-part.js';
import { collectEvents, encodeEvents } from '../model-calls/event-frames.js';
import { ModelCalls } from '../model-calls/model-call.service.js';
import { accountingOf, type WirePart } from '../model-calls/wire-api.js';
import type { ChatCompletionBody, EmbeddingsBody } from './chat-completion-body.js';
import { ChatChunkEncoder, chatCompletion } from './chat-frames.js';
import { chatRequest } from './chat-request.js';
import { OPENAI_CHAT, OPENAI_EMBEDDINGS } from './openai-chat.api.js';
import { sseFrame } from '../model-calls/sse-frame.js';

/**
 * OpenAI's chat completions and embeddings, over ModelCalls. An upstream
 * that speaks OpenAI's format gets the client's body as it came (its extra
 * fields kept) and the client its answer as it came, renamed; any other is
 * reached through the gateway's events and written back as chunks.
 */
@Injectable()
export class CompletionsService {
  constructor(
    private readonly calls: ModelCalls,
    private readonly router: ModelRouter,
  ) {}

  chat(body: ChatCompletionBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.router.route(body.model);
    const requestId = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const streaming = body.stream === true;
    const includeUsage = body.stream_options?.include_usage === true;
    const request = chatRequest(body, route.model);
    const relayed = route.provider.relays.includes('openai-chat');
    const head = { id: requestId, model: route.name, created: Math.floor(Date.now() / 1000) };
    this.calls.run(
      {
        api: OPENAI_CHAT,
        route,
        requestId,
        streaming,
        ...accountingOf(request),
        parts: (options) => {
          if (relayed) {
            return route.provider
              .relay('openai-chat', { ...body, model: route.model }, options)
              .pipe(map((part) => chatPart(part, includeUsage)));
          }
          const events$ = route.provider.stream(request, options);
          return streaming
            ? encodeEvents(events$, new ChatChunkEncoder(head, includeUsage))
            : collectEvents(events$, (events) => chatCompletion(head, events));
        },
      },
      identity,
      req,
      res,
    );
  }

  embeddings(body: EmbeddingsBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.router.route(body.model);
    if (!route.provider.relays.includes('openai-embeddings')) {
      throw new GatewayError('MODEL_NOT_SUPPORTED', {
        message: `The model '${route.name}' has no embeddings (its upstream does not make them)`,
      });
    }
    const texts: LlmMessage[] = (Array.isArray(body.input) ? body.input : [body.input]).map((input) => ({
      role: 'user',
      content: String(input),
    }));
    this.calls.run(
      {
        api: OPENAI_EMBEDDINGS,
        route,
        requestId: `emb-${randomUUID().replaceAll('-', '')}`,
        streaming: false,
        prompt: { messages: texts },
        parts: (options) =>
          route.provider.relay('openai-embeddings', { ...body, model: route.model }, options).pipe(map((part) => chatPart(part, false))),
      },
      identity,
      req,
      res,
    );
  }

  /** The names clients may use. */
  models(): string[] {
    return this.router.models();
  }
}

/** An upstream's chunk as the client gets it; the usage chunk only if the client asked for it (the provider always is). */
function chatPart(part: RelayPart, includeUsage: boolean): WirePart {
  if (part.type === 'response') return { type: 'whole', body: part.body, events: part.events };
  const usageOnly = part.events.length > 0 && part.events.every((event) => event.type === 'usage');
  return { type: 'frame', data: usageOnly && !includeUsage ? '' : sseFrame(part.data), events: part.events };
}
