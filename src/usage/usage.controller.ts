import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentIdentity } from '../auth/api-key.guard.js';
import type { Identity } from '../auth/api-key.service.js';
import { UsageLedger } from './usage-ledger.service.js';
import type { KeyTotals, UsageRecord } from './usage-record.js';

const MAX_RECORDS_PER_PAGE = 1000;

/** What each key has used: an operator key sees every key, any other key its own. */
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
export class UsageController {
  constructor(private readonly ledger: UsageLedger) {}

  @Get()
  totals(@CurrentIdentity() identity: Identity): { object: 'list'; data: KeyTotals[] } {
    return { object: 'list', data: this.ledger.totalsOf(scopeOf(identity)) };
  }

  @Get('records')
  records(@CurrentIdentity() identity: Identity, @Query('limit') limit?: string): { object: 'list'; data: UsageRecord[] } {
    const count = Math.min(MAX_RECORDS_PER_PAGE, Math.max(1, Number.parseInt(limit ?? '100', 10) || 100));
    return { object: 'list', data: this.ledger.latest(count, scopeOf(identity)) };
  }
}

/** A key's own records are those of its identity: names are for show (two keys may share one). */
function scopeOf(identity: Identity): string | undefined {
  return identity.admin ? undefined : identity.userId;
}
