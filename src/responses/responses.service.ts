import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { Identity } from '../auth/api-key.service.js';
import { ModelRouter } from '../llm/model-router.js';
import { collectEvents, encodeEvents } from '../model-calls/event-frames.js';
import { ModelCalls } from '../model-calls/model-call.service.js';
import { responsesApi } from './openai-responses.api.js';
import { ResponseAssembly, Sequence } from './response-assembly.js';
import { ResponseEventEncoder, wholeResponse } from './response-frames.js';
import { responseShell } from './response-object.js';
import type { ResponsesBody } from './responses-body.js';
import { responsesCall } from './responses-request.js';
import { accountingOf } from '../model-calls/wire-api.js';

/**
 * OpenAI's Responses API over ModelCalls. No upstream of the gateway speaks
 * it, so every call goes through the provider's events, written back as
 * Responses events (or gathered into one response).
 */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly calls: ModelCalls,
    private readonly router: ModelRouter,
  ) {}

  /** Throws INVALID_MESSAGE for what the gateway cannot do (see responsesCall), MODEL_NOT_FOUND, CONCURRENCY_LIMITED. */
  respond(body: ResponsesBody, identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    const route = this.router.route(body.model);
    const { request, tools } = responsesCall(body, route.model);
    const requestId = `resp_${randomBytes(24).toString('hex')}`;
    const streaming = body.stream === true;
    const accounting = accountingOf(request);
    const shell = responseShell(body, tools, requestId, route.name);
    const sequence = new Sequence();
    this.calls.run(
      {
        api: responsesApi(sequence),
        route,
        requestId,
        streaming,
        ...accounting,
        parts: (options) => {
          const events$ = route.provider.stream(request, options);
          const assembly = new ResponseAssembly(shell, accounting.prompt, sequence);
          return streaming
            ? encodeEvents(events$, new ResponseEventEncoder(assembly))
            : collectEvents(events$, (events) => wholeResponse(assembly, events));
        },
      },
      identity,
      req,
      res,
    );
  }
}
