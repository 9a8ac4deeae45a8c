import { Injectable } from '@nestjs/common';
import type { JsonValue, ToolDefinition } from '@agent-gateway/protocol';
import { type ServerTool, ServerToolProvider, ToolError } from '../server-tool.js';

/** The date and time now, in a time zone: the answer models cannot know. */
@Injectable()
@ServerToolProvider()
export class CurrentTimeTool implements ServerTool {
  readonly enabled = true;
  readonly definition: ToolDefinition = {
    type: 'function',
    function: {
      name: 'get_current_time',
      description: 'The current date and time, in a given IANA time zone (UTC by default).',
      parameters: {
        type: 'object',
        properties: { timezone: { type: 'string', description: 'IANA time zone, e.g. Europe/Paris or Asia/Shanghai' } },
        additionalProperties: false,
      },
    },
  };

  async execute(args: Record<string, unknown>): Promise<JsonValue> {
    const timezone = typeof args.timezone === 'string' && args.timezone ? args.timezone : 'UTC';
    const now = new Date();
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-GB', {
        timeZone: timezone,
        dateStyle: 'full',
        timeStyle: 'long',
      });
    } catch {
      throw new ToolError(`unknown time zone "${timezone}"`);
    }
    return { timezone, iso_utc: now.toISOString(), local: format.format(now) };
  }
}
