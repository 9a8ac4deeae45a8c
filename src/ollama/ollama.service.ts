import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { map, type Observable, tap } from 'rxjs';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import type { LlmEvent, LlmRequest } from '../llm/llm-events.js';
import { ModelRouter, type ModelRoute } from '../llm/model-router.js';
import type { RelayPart } from '../llm/relay-part.js';
import { collectEvents, encodeEvents, type EventEncoder } from '../model-calls/event-frames.js';
import { ModelCalls } from '../model-calls/model-call.service.js';
import { accountingOf, type WireApi, type WirePart } from '../model-calls/wire-api.js';
import { AnswerTally } from './answer-tally.js';
import type { OllamaChatBody, OllamaEmbedBody, OllamaGenerateBody } from './ollama-body.js';
import { ollamaEmbedAnswer } from './ollama-embed.js';
import {
  OllamaChatEncoder,
  ollamaChatAnswer,
  OllamaGenerateEncoder,
  ollamaGenerateAnswer,
  type OllamaHead,
  ollamaLoaded,
} from './ollama-frames.js';
import { modelEntry, modelInfo, type OllamaModelEntry, runningEntry } from './ollama-models.js';
import { ollamaChatRequest, ollamaGenerateRequest } from './ollama-request.js';
import { OLLAMA_CHAT, OLLAMA_EMBED, OLLAMA_GENERATE } from './ollama.api.js';

/** How one Ollama endpoint writes the provider's events: streamed line by line, or as one object. */
interface OllamaWriter {
  api: WireApi;
  encoder: (head: OllamaHead, tally: AnswerTally) => EventEncoder;
  whole: (head: OllamaHead, events: readonly LlmEvent[], tally: AnswerTally) => object;
}

const CHAT: OllamaWriter = { api: OLLAMA_CHAT, encoder: (head, tally) => new OllamaChatEncoder(head, tally), whole: ollamaChatAnswer };
const GENERATE: OllamaWriter = {
  api: OLLAMA_GENERATE,
  encoder: (head, tally) => new OllamaGenerateEncoder(head, tally),
  whole: ollamaGenerateAnswer,
};

/**
 * Ollama's API for the apps that speak it (Open WebUI, Cherry Studio, the
 * `ollama` clients), over the same model calls as every other HTTP API: its
 * requests translated into the gateway's, whatever the upstream speaks, and
 * the provider's events written back as Ollama's lines.
 */
@Injectable()
export class OllamaService {
  constructor(
    private readonly calls: ModelCalls,
    private readonly router: ModelRouter,
  ) {}

  chat(body: OllamaChatBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.route(body.model);
    if (body.messages.length === 0) {
      answerLoaded(res, ollamaLoaded(route.name, 'chat'));
      return;
    }
    this.run(CHAT, route, ollamaChatRequest(body, route.model), body, identity, req, res);
  }

  generate(body: OllamaGenerateBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.route(body.model);
    if (body.prompt === '' && !body.images?.length) {
      answerLoaded(res, ollamaLoaded(route.name, 'generate'));
      return;
    }
    this.run(GENERATE, route, ollamaGenerateRequest(body, route.model), body, identity, req, res);
  }

  /** `/api/embed`, through the upstream's OpenAI embeddings. */
  embed(body: OllamaEmbedBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.route(body.model);
    if (!route.provider.relays.includes('openai-embeddings')) {
      throw new GatewayError('MODEL_NOT_SUPPORTED', {
        message: `The model '${route.name}' has no embeddings (its upstream does not make them)`,
      });
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const startedAt = performance.now();
    this.calls.run(
      {
        api: OLLAMA_EMBED,
        route,
        requestId: newRequestId(),
        streaming: false,
        prompt: { messages: inputs.map((text) => ({ role: 'user', content: text })) },
        parts: (options) =>
          route.provider
            .relay('openai-embeddings', { model: route.model, input: inputs, encoding_format: 'float' }, options)
            .pipe(map((part) => embedPart(part, route.name, startedAt))),
      },
      identity,
      req,
      res,
    );
  }

  /** The names clients may use, as `/api/tags` lists them. */
  models(): OllamaModelEntry[] {
    return this.router.models().map(modelEntry);
  }

  running(): OllamaModelEntry[] {
    return this.router.models().map(runningEntry);
  }

  /** `/api/show` for a listed model; MODEL_NOT_FOUND (Ollama's 404) for any other. */
  show(requested: string | undefined): Record<string, unknown> {
    const name = requested ? this.listedName(requested) : undefined;
    if (!name) throw new GatewayError('MODEL_NOT_FOUND', { message: `model '${requested ?? ''}' not found` });
    const { provider } = this.router.route(name);
    return modelInfo(name, ['completion', 'tools', ...(provider.relays.includes('openai-embeddings') ? ['embedding'] : [])]);
  }

  private run(
    writer: OllamaWriter,
    route: ModelRoute,
    request: LlmRequest,
    body: OllamaChatBody | OllamaGenerateBody,
    identity: Identity,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const accounting = accountingOf(request);
    const head: OllamaHead = { model: route.name, thinking: body.think !== false };
    this.calls.run(
      {
        api: writer.api,
        route,
        requestId: newRequestId(),
        streaming: body.stream,
        ...accounting,
        parts: (options) => {
          const tally = new AnswerTally(accounting.prompt);
          const events$: Observable<LlmEvent> = route.provider.stream(request, options).pipe(tap((event) => tally.observe(event)));
          return body.stream
            ? encodeEvents(events$, writer.encoder(head, tally))
            : collectEvents(events$, (events) => writer.whole(head, events, tally));
        },
      },
      identity,
      req,
      res,
    );
  }

  /** Ollama's clients add `:latest` to a bare name; the gateway's names mostly have no tag. */
  private route(requested: string | undefined): ModelRoute {
    return this.router.route(requested && (this.listedName(requested) ?? requested));
  }

  private listedName(requested: string): string | undefined {
    const names = this.router.models();
    if (names.includes(requested)) return requested;
    const bare = requested.replace(/:latest$/, '');
    return names.includes(bare) ? bare : undefined;
  }
}

function newRequestId(): string {
  return `ollama-${randomUUID().replaceAll('-', '')}`;
}

/** No model call: the answer Ollama gives when asked to load a model. */
function answerLoaded(res: ServerResponse, body: object): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function embedPart(part: RelayPart, model: string, startedAt: number): WirePart {
  if (part.type === 'chunk') return { type: 'frame', data: '', events: part.events };
  return { type: 'whole', body: ollamaEmbedAnswer(part.body, model, startedAt), events: part.events };
}
