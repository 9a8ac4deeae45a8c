import type { LlmEvent } from '../llm/llm-events.js';
import type { EventEncoder } from '../model-calls/event-frames.js';
import type { ResponseAssembly } from './response-assembly.js';
import type { ResponseEvent, ResponseObject } from './response-types.js';
import { sseFrame } from '../model-calls/sse-frame.js';

/** One server-sent event, named by its type as OpenAI names them (the SDKs read the `data`, some clients the `event`). */
export function responseFrame(event: ResponseEvent): string {
  return sseFrame(JSON.stringify(event), event.type);
}

/** A provider's events written as the Responses API's stream. */
export class ResponseEventEncoder implements EventEncoder {
  constructor(private readonly assembly: ResponseAssembly) {}

  event(event: LlmEvent): string {
    return this.assembly.apply(event).map(responseFrame).join('');
  }

  end(): string {
    return this.assembly.end().map(responseFrame).join('');
  }
}

/** The whole response the events make, for a call that is not streamed. */
export function wholeResponse(assembly: ResponseAssembly, events: readonly LlmEvent[]): ResponseObject {
  for (const event of events) assembly.apply(event);
  assembly.end();
  return assembly.response();
}
