import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisService } from '../redis/redis.service.js';
import { GatewayError } from '../common/gateway-error.js';
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
    private readonly redis: RedisService,
  ) {}

  /** The process is alive and its event loop answers. */
  @Get('health')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Send traffic here: not draining for a shutdown, and Redis reachable when there is one (else 503 NOT_READY, in OpenAI's error shape). */
  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    if (this.shutdown.draining) throw new GatewayError('NOT_READY');
    if (this.redis.enabled && !(await this.redisAnswers())) {
      throw new GatewayError('NOT_READY', { message: 'Redis does not answer; send traffic elsewhere' });
    }
    return this.health.check([
      () => this.indicators.check('gateway').up(),
      ...(this.redis.enabled ? [() => this.indicators.check('redis').up({ instance: this.redis.instanceId })] : []),
    ]);
  }

  private async redisAnswers(): Promise<boolean> {
    const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, REDIS_PING_TIMEOUT_MS, false).unref());
    return Promise.race([this.redis.ping().catch(() => false), timeout]);
  }
}
