import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { readBodyAs } from '../http/json-body.js';
import { ResponsesBody } from './responses-body.js';
import { ResponsesService } from './responses.service.js';

/** `POST /v1/responses` (and `/responses`, for clients whose base URL has no `/v1`). */
@Controller(['v1', ''])
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('responses')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse, @CurrentIdentity() identity: Identity): Promise<void> {
    this.responses.respond(await readBodyAs(req, this.config, ResponsesBody, 'responses'), identity, req, res);
  }
}
