import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { readBodyAs } from '../http/json-body.js';
import { CountTokensBody, MessagesBody } from './messages-body.js';
import { MessagesService } from './messages.service.js';

/**
 * Anthropic's Messages API: the Anthropic SDKs, the Vercel AI SDK's
 * Anthropic provider and Claude Code point their base URL at the gateway
 * (`http://gateway`, or `http://gateway/v1` for those that add only
 * `/messages`) and send their key as `x-api-key`. Errors before the call
 * (a bad key, a bad body) are Anthropic-shaped too: the HTTP error filter
 * knows the path.
 */
@Controller(['v1', ''])
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('messages')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.messages.create(await readBodyAs(req, this.config, MessagesBody, 'messages'), identity, req, res);
  }

  @Post('messages/count_tokens')
  @HttpCode(200)
  async countTokens(@Req() req: IncomingMessage): Promise<{ input_tokens: number }> {
    return this.messages.countTokens(await readBodyAs(req, this.config, CountTokensBody, 'count_tokens'));
  }
}
