import type {
  FunctionTool,
  Response,
  ResponseFunctionToolCall,
  ResponseOutputMessage,
  ResponseReasoningItem,
  ResponseStreamEvent,
  ResponseUsage,
} from 'openai/resources/responses/responses';

/**
 * The shapes of OpenAI's Responses API, taken from the official SDK's own
 * types so that what the gateway writes is what the SDK parses. Type-only:
 * nothing of the SDK runs in the gateway.
 */

/** A response as the API sends it: `output_text` is a convenience the SDKs add, never on the wire. */
export type ResponseObject = Omit<Response, 'output_text'>;

/** A stream event as the API sends it (any `response` it carries without `output_text`). */
export type ResponseEvent = OnTheWire<ResponseStreamEvent>;

type OnTheWire<E> = E extends { response: Response } ? Omit<E, 'response'> & { response: ResponseObject } : E;

/** The output items the gateway's models make: text, reasoning, function calls. */
export type OutputItem = ResponseOutputMessage | ResponseReasoningItem | ResponseFunctionToolCall;

export type { FunctionTool, ResponseUsage };
