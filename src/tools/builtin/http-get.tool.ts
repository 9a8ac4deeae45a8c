import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import type { JsonValue, ToolDefinition } from '@agent-gateway/protocol';
import { type ServerTool, ServerToolProvider, ToolError } from '../server-tool.js';
import { AddressPolicy } from './address-policy.js';

/**
 * Fetches a web page for the model, from allow-listed hosts only, on allowed
 * ports, never from internal addresses (see AddressPolicy), with a size and
 * a time limit; redirects are not followed (the model sees the 3xx). The
 * request's AbortSignal is the tool's: an interrupt closes the connection.
 * Offered only when TOOLS_HTTP_ALLOWED_HOSTS is set.
 */
@Injectable()
@ServerToolProvider()
export class HttpGetTool implements ServerTool, OnModuleDestroy {
  readonly enabled: boolean;
  readonly definition: ToolDefinition;
  private readonly agent: Agent;
  private readonly options: AppConfig['tools']['http'];
  private readonly addresses: AddressPolicy;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.options = config.tools.http;
    this.enabled = this.options.allowedHosts.length > 0;
    this.addresses = new AddressPolicy(this.options.allowedNetworks);
    this.agent = new Agent({
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      connect: { lookup: this.addresses.lookup },
    });
    this.definition = {
      type: 'function',
      function: {
        name: 'http_get',
        description: `Fetch a URL with HTTP GET and return the start of its body. Allowed hosts: ${this.options.allowedHosts.join(', ')}.`,
        parameters: {
          type: 'object',
          properties: { url: { type: 'string', description: 'http(s) URL on an allowed host' } },
          required: ['url'],
          additionalProperties: false,
        },
      },
    };
  }

  async execute(args: Record<string, unknown>, signal: AbortSignal): Promise<JsonValue> {
    const url = this.allowedUrl(args.url);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const response = await request(url, {
      method: 'GET',
      dispatcher: this.agent,
      signal: AbortSignal.any([signal, timeout]),
      headers: { accept: 'text/*, application/json;q=0.9, */*;q=0.5', 'user-agent': 'agent-gateway' },
    }).catch((error: unknown) => {
      // The address policy's refusal, from inside the connection's lookup, is for the model to read.
      throw findToolError(error) ?? error;
    });
    const parts: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const part of response.body) {
      const chunk = part as Buffer;
      const room = this.options.maxBytes - size;
      parts.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
      if (chunk.length > room) {
        truncated = true;
        break; // leaving the loop destroys the body, and with it the connection
      }
    }
    return {
      status: response.statusCode,
      content_type: String(response.headers['content-type'] ?? ''),
      body: Buffer.concat(parts).toString('utf8'),
      truncated,
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  private allowedUrl(value: unknown): URL {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new ToolError('url is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ToolError('only http and https URLs');
    const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const allowed = this.options.allowedHosts.some(
      (pattern) => host === pattern || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1))),
    );
    if (!allowed) throw new ToolError(`host ${host} is not allowed`);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (!this.options.allowedPorts.includes(port)) throw new ToolError(`port ${port} is not allowed (${this.options.allowedPorts.join(', ')} are)`);
    this.addresses.checkLiteral(url.hostname);
    return url;
  }
}

/** A ToolError anywhere in an error's chain of causes. */
function findToolError(error: unknown): ToolError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) if (cause instanceof ToolError) return cause;
  return undefined;
}
