import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { type Observable, Subject } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisKeys } from './redis-keys.js';

/**
 * This process as one of several gateway instances sharing a Redis
 * (REDIS_URL): its name, its two connections (commands, and a subscriber for
 * the messages other instances publish to it), and its heartbeat (a key with
 * a TTL, which other instances read to know it is alive). Without REDIS_URL
 * it is disabled and the gateway is one process with everything in memory.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly enabled: boolean;
  readonly instanceId: string;
  readonly keys: RedisKeys;
  private command?: Redis;
  private subscriber?: Redis;
  private heartbeatTimer?: NodeJS.Timeout;
  private healthy = true;
  private readonly reconnectedSubject = new Subject<void>();
  /** Redis came back after an outage (it may have lost everything): what this instance owns is written again. */
  readonly reconnected$ = this.reconnectedSubject.asObservable();
  private readonly messagesSubject = new Subject<string>();
  /** What other instances published on this instance's channels (its own, and the one for all). */
  readonly messages$: Observable<string> = this.messagesSubject.asObservable();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(RedisService.name) private readonly logger: PinoLogger,
  ) {
    const { redisUrl, instanceId, keyPrefix } = config.cluster;
    this.enabled = redisUrl !== undefined;
    this.instanceId = instanceId;
    this.keys = new RedisKeys(keyPrefix);
  }

  /** The command connection; only when enabled. */
  get redis(): Redis {
    if (!this.command) throw new Error('the cluster is not enabled (REDIS_URL is not set)');
    return this.command;
  }

  /** A connection of its own, for blocking reads (XREAD BLOCK); the caller disconnects it. */
  duplicate(): Redis {
    return this.redis.duplicate({ enableOfflineQueue: true });
  }

  get ttlMs(): number {
    return this.config.cluster.instanceTtlMs;
  }

  async onModuleInit(): Promise<void> {
    const url = this.config.cluster.redisUrl;
    if (!url) return;
    const options: RedisOptions = {
      lazyConnect: true,
      // Commands fail at once while Redis is away instead of piling up in memory; what matters is written again on reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
      connectionName: `agent-gateway:${this.instanceId}`,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    };
    this.command = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, enableAutoPipelining: false });
    this.command.on('error', (error: Error) => this.unhealthy(error));
    this.subscriber.on('error', (error: Error) => this.unhealthy(error));
    this.subscriber.on('message', (_channel: string, message: string) => this.messagesSubject.next(message));
    // Either connection coming back may have missed something: a write, or a message sent to this instance.
    for (const connection of [this.command, this.subscriber]) {
      let connectedOnce = false;
      connection.on('ready', () => {
        if (connectedOnce) this.recovered();
        connectedOnce = true;
      });
    }
    try {
      await Promise.all([this.command.connect(), this.subscriber.connect()]);
      await this.subscriber.subscribe(this.keys.channel(this.instanceId), this.keys.broadcastChannel);
      await this.beat();
    } catch (error) {
      // Not fatal: the instance starts unready and joins when Redis answers.
      this.unhealthy(error as Error);
    }
    const interval = Math.max(100, Math.floor(this.ttlMs / 3));
    this.heartbeatTimer = setInterval(() => void this.beat(), interval).unref();
    this.logger.info({ instance_id: this.instanceId, redis: redactUrl(url) }, 'instance on Redis');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.messagesSubject.complete();
    if (!this.command || !this.subscriber) return;
    // Gone on purpose: nothing of ours is left to reap.
    await this.command
      .multi()
      .del(this.keys.instance(this.instanceId))
      .srem(this.keys.instances, this.instanceId)
      .exec()
      .catch(() => undefined);
    this.command.disconnect();
    this.subscriber.disconnect();
  }

  /** Publishes on a channel; resolves with how many subscribers received it. */
  publish(channel: string, message: string): Promise<number> {
    return this.redis.publish(channel, message);
  }

  /** Redis answers (for readiness). */
  async ping(): Promise<boolean> {
    // Messages to this instance arrive on the subscriber: without it, others would think it dead.
    if (!this.command || this.command.status !== 'ready' || this.subscriber?.status !== 'ready') return false;
    await this.command.ping();
    return true;
  }

  private async beat(): Promise<void> {
    const key = this.keys.instance(this.instanceId);
    try {
      await this.redis
        .multi()
        .set(key, JSON.stringify({ pid: process.pid, at: Date.now() }), 'PX', this.ttlMs)
        .sadd(this.keys.instances, this.instanceId)
        .exec();
      if (!this.healthy) this.logger.info({ instance_id: this.instanceId }, 'Redis reachable again');
      this.healthy = true;
    } catch (error) {
      this.unhealthy(error as Error);
    }
  }

  private recovered(): void {
    void this.beat();
    this.reconnectedSubject.next();
  }

  /** Logged once per outage, not once per failed command. */
  private unhealthy(error: Error): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.logger.error({ instance_id: this.instanceId, err: error.message }, 'Redis unavailable');
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
