import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Counter } from 'prom-client';
import type { Subscription } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ActiveRequest } from '../requests/active-request.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import type { KeyTotals, UsageOutcome, UsageRecord } from './usage-record.js';

/** Distinct key labels on the counters; past it (open mode lets any key in) they count as `other`. */
const MAX_KEY_LABELS = 200;
/** Distinct keys with totals of their own; past it, the same: open mode must not grow this map for ever. */
const MAX_KEY_TOTALS = 10_000;

/**
 * One usage record for every request, WebSocket, task or HTTP, finished,
 * stopped, abandoned or failed: written from the registry's `released$`, so
 * no way of ending a request skips it. Keeps per-key totals, the latest
 * records (USAGE_RECORDS_KEPT), and Prometheus counters by key name.
 */
@Injectable()
export class UsageLedger implements OnModuleInit, OnModuleDestroy {
  private readonly totals = new Map<string, KeyTotals>();
  private readonly records: UsageRecord[] = [];
  private readonly keyLabels = new Set<string>();
  private subscription?: Subscription;
  private readonly tokens: Counter<'key' | 'api' | 'kind' | 'source'>;
  private readonly requests: Counter<'key' | 'api' | 'outcome'>;

  constructor(
    private readonly registry: RequestRegistry,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(UsageLedger.name) private readonly logger: PinoLogger,
  ) {
    this.tokens = new Counter({
      name: 'gateway_usage_tokens_total',
      help: 'Tokens used, by key name, API, kind (prompt, completion) and source (provider, estimated)',
      labelNames: ['key', 'api', 'kind', 'source'],
      registers: [metrics.registry],
    });
    this.requests = new Counter({
      name: 'gateway_usage_requests_total',
      help: 'Requests ended, by key name, API and outcome',
      labelNames: ['key', 'api', 'outcome'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    // After the tick of the release: counting a cut request's prompt may take milliseconds, and that tick
    // may be a stop's, whose INTERRUPT_ACK is still to be flushed.
    this.subscription = this.registry.released$.subscribe((request) => setImmediate(() => this.record(request)));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Per-key totals: every key's, or only those of the key whose identity is `userId`. */
  totalsOf(userId?: string): KeyTotals[] {
    if (userId === undefined) return [...this.totals.values()];
    const own = this.totals.get(userId);
    return own ? [own] : [];
  }

  /** The latest records, newest last: everyone's, or only `userId`'s. */
  latest(limit: number, userId?: string): UsageRecord[] {
    const visible = userId === undefined ? this.records : this.records.filter((record) => record.user_id === userId);
    return visible.slice(-limit);
  }

  private record(request: ActiveRequest): void {
    try {
      this.add(this.recordOf(request));
    } catch (error) {
      // Accounting must never take the gateway down; the request itself has long ended.
      this.logger.error({ err: error, request_id: request.id }, 'usage record failed');
    }
  }

  private recordOf(request: ActiveRequest): UsageRecord {
    const usage = request.usage.toRecordUsage();
    const { owner } = request;
    const record: UsageRecord = {
      request_id: request.id,
      key: owner.keyName ?? owner.userId,
      user_id: owner.userId,
      api: owner.api ?? owner.transport,
      model: owner.model ?? null,
      outcome: outcomeOf(request),
      ...usage,
      started_at: request.startedAtMs,
      duration_ms: Math.round(performance.now() - request.startedAt),
    };
    this.logger.info({ usage: record }, 'usage');
    return record;
  }

  private add(record: UsageRecord): void {
    const known = this.totals.has(record.user_id) || this.totals.size < MAX_KEY_TOTALS;
    const totalsId = known ? record.user_id : 'other';
    const totals = this.totals.get(totalsId) ?? {
      key: known ? record.key : 'other',
      user_id: totalsId,
      requests: 0,
      estimated_requests: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
    };
    totals.requests += 1;
    if (record.source === 'estimated') totals.estimated_requests += 1;
    totals.prompt_tokens += record.prompt_tokens ?? 0;
    totals.completion_tokens += record.completion_tokens;
    totals.total_tokens += record.total_tokens ?? record.completion_tokens;
    this.totals.set(totalsId, totals);

    const kept = this.config.httpApi.usageRecordsKept;
    if (kept > 0) {
      this.records.push(record);
      if (this.records.length > kept) this.records.splice(0, this.records.length - kept);
    }

    if (!this.keyLabels.has(record.key) && this.keyLabels.size < MAX_KEY_LABELS) this.keyLabels.add(record.key);
    const key = this.keyLabels.has(record.key) ? record.key : 'other';
    this.requests.inc({ key, api: record.api, outcome: record.outcome });
    this.tokens.inc({ key, api: record.api, kind: 'prompt', source: record.source }, record.prompt_tokens ?? 0);
    this.tokens.inc({ key, api: record.api, kind: 'completion', source: record.source }, record.completion_tokens);
  }
}

function outcomeOf(request: ActiveRequest): UsageOutcome {
  if (request.failed) return 'failed';
  if (!request.cancellation) return 'finished';
  return request.cancellation.source === 'disconnect' ? 'client_closed' : 'interrupted';
}
