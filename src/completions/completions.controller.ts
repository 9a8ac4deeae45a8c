import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatewayError } from '../common/gateway-error.js';
import { readBodyAs } from '../http/json-body.js';
import { ChatCompletionBody, EmbeddingsBody } from './chat-completion-body.js';
import { CompletionsService } from './completions.service.js';

interface ModelView {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/**
 * The OpenAI-compatible API: chat apps and the `openai` SDK point their base
 * URL at `http://gateway/v1` (some at `http://gateway`: both work).
 */
@Controller(['v1', ''])
@UseGuards(ApiKeyGuard)
export class CompletionsController {
  constructor(
    private readonly completions: CompletionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('chat/completions')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.completions.chat(await readBodyAs(req, this.config, ChatCompletionBody, 'chat completion'), identity, req, res);
  }

  @Post('embeddings')
  async embeddings(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.completions.embeddings(await readBodyAs(req, this.config, EmbeddingsBody, 'embeddings'), identity, req, res);
  }

  @Get('models')
  models(): { object: 'list'; data: ModelView[] } {
    return { object: 'list', data: this.completions.models().map(modelView) };
  }

  @Get('models/:id')
  model(@Param('id') id: string): ModelView {
    if (!this.completions.models().includes(id)) {
      throw new GatewayError('MODEL_NOT_FOUND', { message: `The model '${id}' does not exist or you do not have access to it` });
    }
    return modelView(id);
  }
}

function modelView(id: string): ModelView {
  return { id, object: 'model', created: 0, owned_by: 'agent-gateway' };
}
