import { DiscoveryService } from '@nestjs/core';
import type { JsonValue, ToolDefinition } from '@agent-gateway/protocol';

/**
 * A tool the gateway runs itself. `execute` gets the parsed arguments and an
 * AbortSignal that fires the instant the request is interrupted (or the tool
 * times out): pass it on to whatever the tool waits for.
 */
export interface ServerTool {
  readonly definition: ToolDefinition;
  /** False keeps the tool away from the model, e.g. when it is not configured. */
  readonly enabled: boolean;
  /**
   * False: an interrupt waits for this tool's result, records it, and then
   * ends the reply (for what must not be cut in half, like a payment). By
   * default a tool is cancelled at once.
   */
  readonly cancellable?: boolean;
  execute(args: Record<string, unknown>, signal: AbortSignal): Promise<JsonValue>;
}

/** Marks a provider as a server tool: any module may contribute tools, the registry discovers them. */
export const ServerToolProvider = DiscoveryService.createDecorator<void>();

/** A failure the model should read about (it becomes the tool's result). */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}
