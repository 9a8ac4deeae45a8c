import { Controller, Delete, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { GatewayError } from '../common/gateway-error.js';
import type { HistoryPayload, ResetAckPayload } from '@agent-gateway/protocol';
import { ConversationService } from './conversation.service.js';
import { toHistoryMessage } from './stored-message.js';

/** A session's history over HTTP, for a page that reloads: same key as the session's REGISTER. */
@Controller('v1/sessions')
@UseGuards(ApiKeyGuard)
export class HistoryController {
  constructor(private readonly conversations: ConversationService) {}

  @Get(':sessionId/history')
  async history(@Param('sessionId') sessionId: string, @CurrentIdentity() identity: Identity): Promise<HistoryPayload> {
    const conversation = await this.owned(sessionId, identity);
    return { session_id: sessionId, messages: conversation.messages.map(toHistoryMessage) };
  }

  @Delete(':sessionId/history')
  async clear(@Param('sessionId') sessionId: string, @CurrentIdentity() identity: Identity): Promise<ResetAckPayload> {
    await this.owned(sessionId, identity);
    return { cleared: await this.conversations.clear(sessionId) };
  }

  /** Another identity's session answers exactly like one that does not exist. */
  private async owned(sessionId: string, identity: Identity) {
    const conversation = await this.conversations.read(sessionId);
    if (!conversation || conversation.ownerId !== identity.userId) throw new GatewayError('SESSION_NOT_FOUND');
    return conversation;
  }
}
