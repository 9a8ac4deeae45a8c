import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { ToolDefinition } from '@agent-gateway/protocol';
import { type ServerTool, ServerToolProvider } from './server-tool.js';

/** The server tools Nest modules contributed with @ServerToolProvider(), those TOOLS_SERVER names and that are configured. */
@Injectable()
export class ToolRegistry implements OnModuleInit {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly tools = new Map<string, ServerTool>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: ServerToolProvider.KEY })) {
      const tool = wrapper.instance as ServerTool | undefined;
      if (!tool?.enabled || !this.config.tools.server.includes(tool.definition.function.name)) continue;
      const { name } = tool.definition.function;
      if (this.tools.has(name)) throw new Error(`two server tools are named ${name}`);
      this.tools.set(name, tool);
    }
    this.logger.log(`server tools: ${[...this.tools.keys()].join(', ') || 'none'}`);
  }

  get(name: string): ServerTool | undefined {
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  definitions(): ToolDefinition[] {
    return [...this.tools.values()].map((tool) => tool.definition);
  }
}
