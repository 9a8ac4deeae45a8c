import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { Subject } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { BusBody, BusKind, BusMessage, BusReply, Handled } from './bus-messages.js';
import { ClusterKeys } from './cluster-keys.js';

type Handler<K extends BusKind> = (body: BusBody<K>, from: string) => Handled<BusReply<K>> | Promise<Handled<BusReply<K>>> | void;

interface Pending {
  resolve(body: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Another instance did not answer in time, or is not listening at all. */
export class ClusterCommandError extends Error {
  override readonly name = 'ClusterCommandError';
}

/**
 * This process as one of several gateway instances sharing a Redis
 * (REDIS_URL): its name, its heartbeat (a key with a TTL, which other
 * instances read to know it is alive) and the command bus between instances
 * (one pub/sub channel per instance, plus one for all). Without REDIS_URL it
 * is disabled and the gateway is one process with everything in memory.
 */
@Injectable()
export class ClusterService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ClusterService.name);
  readonly enabled: boolean;
  readonly instanceId: string;
  readonly keys: ClusterKeys;
  private command?: Redis;
  private subscriber?: Redis;
  private readonly handlers = new Map<BusKind, Handler<BusKind>>();
  private readonly pending = new Map<string, Pending>();
  /** Broadcasts waiting for their replies. */
  private readonly collectors = new Map<string, (reply: unknown, failed: boolean) => void>();
  private nextId = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private healthy = true;
  private readonly reconnectedSubject = new Subject<void>();
  /** Redis came back after an outage (it may have lost everything): what this instance owns is written again. */
  readonly reconnected$ = this.reconnectedSubject.asObservable();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { redisUrl, instanceId, keyPrefix } = config.cluster;
    this.enabled = redisUrl !== undefined;
    this.instanceId = instanceId;
    this.keys = new ClusterKeys(keyPrefix);
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
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    // Either connection coming back may have missed something: a write, or a command sent to this instance.
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
    this.logger.log(`instance ${this.instanceId} on Redis ${redactUrl(url)}`);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ClusterCommandError('the instance is shutting down'));
      this.pending.delete(id);
    }
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

  /** Answers commands of one kind from other instances. */
  handle<K extends BusKind>(kind: K, handler: Handler<K>): void {
    this.handlers.set(kind, handler as unknown as Handler<BusKind>);
  }

  /** A command that expects no reply. */
  send<K extends BusKind>(to: string, kind: K, body: BusBody<K>): void {
    this.publish(this.keys.channel(to), { f: this.instanceId, k: kind, b: body }).catch((error: unknown) =>
      this.logger.warn(`${kind} to ${to} not sent: ${String(error)}`),
    );
  }

  /** A command and its reply; rejects when `to` is not listening or does not answer within CLUSTER_COMMAND_TIMEOUT_MS. */
  request<K extends BusKind>(to: string, kind: K, body: BusBody<K>): Promise<BusReply<K>> {
    const id = `${this.instanceId}#${++this.nextId}`;
    return new Promise<BusReply<K>>((resolve, reject) => {
      this.expect(id, resolve as (body: unknown) => void, reject, `${kind} to ${to}`);
      this.publish(this.keys.channel(to), { f: this.instanceId, k: kind, i: id, b: body }).then(
        (receivers) => receivers === 0 && this.settle(id, undefined, `instance ${to} is not listening`),
        (error: unknown) => this.settle(id, undefined, String(error)),
      );
    });
  }

  /** A command to every other instance; resolves with the replies that came in time. */
  async broadcast<K extends BusKind>(kind: K, body: BusBody<K>): Promise<BusReply<K>[]> {
    const id = `${this.instanceId}#${++this.nextId}`;
    const replies: BusReply<K>[] = [];
    let answered = 0;
    let expected = Number.POSITIVE_INFINITY;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.collectors.set(id, (reply, failed) => {
      answered += 1;
      if (!failed) replies.push(reply as BusReply<K>);
      if (answered >= expected) finish();
    });
    const timer = setTimeout(finish, this.config.cluster.commandTimeoutMs).unref();
    try {
      // Every instance receives it, this one too (and ignores it).
      expected = (await this.publish(this.keys.broadcastChannel, { f: this.instanceId, k: kind, i: id, b: body })) - 1;
      if (answered >= expected) finish();
      await finished;
    } finally {
      clearTimeout(timer);
      this.collectors.delete(id);
    }
    return replies;
  }

  /** Is that instance's heartbeat fresh? */
  async isAlive(instanceId: string): Promise<boolean> {
    if (instanceId === this.instanceId) return true;
    return (await this.redis.exists(this.keys.instance(instanceId))) === 1;
  }

  /** Redis answers (for readiness). */
  async ping(): Promise<boolean> {
    // Commands to this instance arrive on the subscriber: without it, others would think it dead.
    if (!this.command || this.command.status !== 'ready' || this.subscriber?.status !== 'ready') return false;
    return (await this.command.ping()) === 'PONG';
  }

  private async beat(): Promise<void> {
    const key = this.keys.instance(this.instanceId);
    try {
      await this.redis
        .multi()
        .set(key, JSON.stringify({ pid: process.pid, at: Date.now() }), 'PX', this.ttlMs)
        .sadd(this.keys.instances, this.instanceId)
        .exec();
      if (!this.healthy) this.logger.log('Redis reachable again');
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
    this.logger.error(`Redis unavailable: ${error.message}`);
  }

  private publish(channel: string, message: BusMessage): Promise<number> {
    return this.redis.publish(channel, JSON.stringify(message));
  }

  private expect(id: string, resolve: (body: unknown) => void, reject: (error: Error) => void, what: string): void {
    const timer = setTimeout(() => this.settle(id, undefined, `${what}: no answer within ${this.config.cluster.commandTimeoutMs} ms`), this.config.cluster.commandTimeoutMs);
    timer.unref();
    this.pending.set(id, { resolve, reject, timer });
  }

  private settle(id: string, body: unknown, error?: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error === undefined) pending.resolve(body);
    else pending.reject(new ClusterCommandError(error));
  }

  private receive(raw: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      this.logger.warn('unreadable bus message');
      return;
    }
    if (message.f === this.instanceId) return;
    if ('r' in message) {
      const collect = this.collectors.get(message.r);
      return collect ? collect(message.b, message.e !== undefined) : this.settle(message.r, message.b, message.e);
    }
    const handler = this.handlers.get(message.k);
    if (!handler) return;
    const answer = (handled: Handled<unknown> | void): void => {
      if (message.i !== undefined && handled) {
        void this.publish(this.keys.channel(message.f), { f: this.instanceId, r: message.i, b: handled.reply }).catch(() => undefined);
      }
      handled?.afterReply?.();
    };
    const fail = (error: unknown): void => {
      this.logger.error(`bus ${message.k} from ${message.f} failed: ${String(error)}`);
      if (message.i !== undefined) {
        void this.publish(this.keys.channel(message.f), { f: this.instanceId, r: message.i, e: 'failed' }).catch(() => undefined);
      }
    };
    try {
      const result = handler(message.b as BusBody<BusKind>, message.f);
      // Synchronous answers go out at once, so that what `afterReply` causes follows them on the wire.
      if (result instanceof Promise) result.then(answer, fail);
      else answer(result);
    } catch (error) {
      fail(error);
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
