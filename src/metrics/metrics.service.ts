import { Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Transport } from '../common/transport.js';

export type RequestOutcome = 'finished' | 'interrupted' | 'failed' | 'client_closed';

/** Interrupt reasons come from clients: past this many distinct ones, they are counted as "other". */
const MAX_REASONS = 32;

/** Seconds; interrupts are measured in milliseconds, so the buckets start well below one. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The gateway's Prometheus metrics, in a registry of its own (several
 * gateways may live in one process under test). Gauges of what is active are
 * read from their owners when scraped (`activeGauge`).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Requests by transport and how they ended',
    labelNames: ['transport', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly interrupts = new Counter({
    name: 'gateway_interrupts_total',
    help: 'Requests stopped before their end, by reason and by who stopped them',
    labelNames: ['transport', 'source', 'reason'] as const,
    registers: [this.registry],
  });

  readonly interruptAck = new Histogram({
    name: 'gateway_interrupt_ack_seconds',
    help: 'From an INTERRUPT arriving to its INTERRUPT_ACK being queued',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly interruptUpstreamClosed = new Histogram({
    name: 'gateway_interrupt_upstream_closed_seconds',
    help: 'From a stop (interrupt, closed client, operator) to the upstream request being aborted',
    labelNames: ['transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly bargeIns = new Counter({
    name: 'gateway_barge_ins_total',
    help: 'Speech over a playing reply, by what came of it: interrupted, or resumed (too_short, backchannel, echo, no_words, timeout)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'gateway_completion_tokens_total',
    help: 'Completion tokens generated, by transport and how the request ended (cut requests: counted up to the cut)',
    labelNames: ['transport', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly tokensSaved = new Counter({
    name: 'gateway_completion_tokens_saved_total',
    help: 'Tokens an interrupted request did not generate, where its limit was known (max_tokens, or the simulated length)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly httpResponses = new Counter({
    name: 'gateway_http_model_responses_total',
    help: 'Answers of the HTTP model APIs (chat completions, responses, messages, Ollama, embeddings), by API and status; 499 is a client that closed its request',
    labelNames: ['api', 'status'] as const,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Failures of the model provider, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  private readonly reasons = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A gauge its owner answers when Prometheus scrapes: nothing to keep in
   * step as sessions and requests come and go. `read` returns one value, or
   * one per value of `label`.
   */
  activeGauge(name: string, help: string, read: () => number): void;
  activeGauge(name: string, help: string, read: () => Record<string, number>, label: string): void;
  activeGauge(name: string, help: string, read: () => number | Record<string, number>, label?: string): void {
    new Gauge({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [this.registry],
      collect() {
        const value = read();
        if (typeof value === 'number' || label === undefined) {
          this.set(typeof value === 'number' ? value : 0);
          return;
        }
        this.reset();
        for (const [labelValue, count] of Object.entries(value)) this.set({ [label]: labelValue }, count);
      },
    });
  }

  /** Counts a request stopped early; the reason label stays bounded whatever clients send. */
  interrupted(transport: Transport, source: string, reason: string): void {
    if (!this.reasons.has(reason) && this.reasons.size < MAX_REASONS) this.reasons.add(reason);
    this.interrupts.inc({ transport, source, reason: this.reasons.has(reason) ? reason : 'other' });
  }

  /** Accounts for a request that has ended. */
  ended(transport: Transport, outcome: RequestOutcome, completionTokens: number, limit?: number): void {
    this.requests.inc({ transport, outcome });
    this.tokens.inc({ transport, outcome }, completionTokens);
    if ((outcome === 'interrupted' || outcome === 'client_closed') && limit !== undefined && limit > completionTokens) {
      this.tokensSaved.inc({ transport }, limit - completionTokens);
    }
  }
}
