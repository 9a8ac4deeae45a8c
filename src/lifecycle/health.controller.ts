import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { ClusterService } from '../cluster/cluster.service.js';
import { GatewayError } from '../errors/gateway-error.js';
import { ShutdownService } from './shutdown.service.js';

/** Readiness must answer quickly even when Redis does not. */
const REDIS_PING_TIMEOUT_MS = 500;

/** Liveness and readiness, for containers and load balancers (no authentication). */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownService,
    private readonly cluster: ClusterService,
  ) {}

  /** The process is alive and its event loop answers. */
  @Get('health')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Send traffic here: not draining for a shutdown (503 NOT_READY, like any HTTP error in OpenAI's shape), and Redis reachable when there is one. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    if (this.shutdown.draining) throw new GatewayError('NOT_READY');
    return this.health.check([() => this.indicators.check('gateway').up(), ...(this.cluster.enabled ? [() => this.redis()] : [])]);
  }

  private async redis() {
    const redis = this.indicators.check('redis');
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, REDIS_PING_TIMEOUT_MS, false).unref());
    const answered = await Promise.race([this.cluster.ping().catch(() => false), timeout]);
    return answered ? redis.up({ instance: this.cluster.instanceId }) : redis.down({ message: 'Redis does not answer' });
  }
}
