import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { readBodyAs } from '../http/json-body.js';
import { OllamaChatBody, OllamaEmbedBody, OllamaGenerateBody, OllamaShowBody } from './ollama-body.js';
import type { OllamaModelEntry } from './ollama-models.js';
import { OllamaService } from './ollama.service.js';

/** The Ollama version the gateway answers as: recent enough that clients offer tools, thinking and `/api/embed`. */
const OLLAMA_VERSION = '0.12.0';

/**
 * Ollama's API, for the apps that speak it: point their Ollama URL at
 * `http://gateway` (the paths are under `/api/`) and give them a gateway key
 * as a bearer token. Errors are Ollama's `{"error": "…"}` (the filter picks
 * that format for `/api/`).
 */
@Controller('api')
export class OllamaController {
  constructor(
    private readonly ollama: OllamaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('chat')
  @UseGuards(ApiKeyGuard)
  async chat(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.ollama.chat(await readBodyAs(req, this.config, OllamaChatBody, 'chat'), identity, req, res);
  }

  @Post('generate')
  @UseGuards(ApiKeyGuard)
  async generate(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.ollama.generate(await readBodyAs(req, this.config, OllamaGenerateBody, 'generate'), identity, req, res);
  }

  @Post('embed')
  @UseGuards(ApiKeyGuard)
  async embed(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.ollama.embed(await readBodyAs(req, this.config, OllamaEmbedBody, 'embed'), identity, req, res);
  }

  @Get('tags')
  @UseGuards(ApiKeyGuard)
  tags(): { models: OllamaModelEntry[] } {
    return { models: this.ollama.models() };
  }

  @Get('ps')
  @UseGuards(ApiKeyGuard)
  ps(): { models: OllamaModelEntry[] } {
    return { models: this.ollama.running() };
  }

  @Post('show')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  async show(@Req() req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readBodyAs(req, this.config, OllamaShowBody, 'show');
    return this.ollama.show(body.model ?? body.name);
  }

  /** Open, as Ollama's is: clients call it to find out whether an Ollama is there at all. */
  @Get('version')
  version(): { version: string } {
    return { version: OLLAMA_VERSION };
  }
}
