import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { PinoLogger } from 'nestjs-pino';
import type { Subscription } from 'rxjs';
import type { RedisService } from './redis.service.js';

/** What a bus carries: for each kind of command, its body and its reply (`void`: none expected). */
export type CommandMap<C> = { [K in keyof C]: { body: unknown; reply: unknown } };
export type BusBody<C extends CommandMap<C>, K extends keyof C> = C[K]['body'];
export type BusReply<C extends CommandMap<C>, K extends keyof C> = C[K]['reply'];

/** On the wire: a command (`i` set when a reply is expected), or a reply to one. */
type BusMessage = { f: string; k: string; i?: string; b: unknown } | { f: string; r: string; b?: unknown; e?: string };

/**
 * What a handler answers. `afterReply` runs once the reply is on its way, so
 * what it causes (the end frames of a cancelled request) reaches the asking
 * instance after the reply, on the same connection.
 */
export interface Handled<R> {
  reply: R;
  afterReply?: () => void;
}

type Handler<B, R> = (body: B, from: string) => Handled<R> | Promise<Handled<R>> | void;

interface Pending {
  resolve(body: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Another instance did not answer in time, or is not listening at all. */
class BusCommandError extends Error {
  override readonly name = 'BusCommandError';
}

/**
 * Commands between gateway instances over Redis pub/sub (a channel per
 * instance, and one for all), typed by a command map: a wrong body does not
 * compile. A command that expects a reply waits `timeoutMs` for it.
 */
export class RedisBus<C extends CommandMap<C>> implements OnModuleInit, OnApplicationShutdown {
  private readonly handlers = new Map<keyof C, Handler<unknown, unknown>>();
  private readonly pending = new Map<string, Pending>();
  /** Broadcasts waiting for their replies. */
  private readonly collectors = new Map<string, (reply: unknown, failed: boolean) => void>();
  private nextId = 0;
  private subscription?: Subscription;

  constructor(
    protected readonly redis: RedisService,
    private readonly timeoutMs: number,
    private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    if (this.redis.enabled) this.subscription = this.redis.messages$.subscribe((message) => this.receive(message));
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new BusCommandError('the instance is shutting down'));
      this.pending.delete(id);
    }
  }

  /** Answers commands of one kind from other instances. */
  handle<K extends keyof C & string>(kind: K, handler: Handler<BusBody<C, K>, BusReply<C, K>>): void {
    this.handlers.set(kind, handler);
  }

  /** A command that expects no reply. */
  send<K extends keyof C & string>(to: string, kind: K, body: BusBody<C, K>): void {
    this.publish(this.redis.keys.channel(to), { f: this.redis.instanceId, k: kind, b: body }).catch((error: unknown) =>
      this.logger.warn({ kind, to, err: String(error) }, 'bus command not sent'),
    );
  }

  /** A command and its reply; rejects when `to` is not listening or does not answer in time. */
  request<K extends keyof C & string>(to: string, kind: K, body: BusBody<C, K>): Promise<BusReply<C, K>> {
    const id = `${this.redis.instanceId}#${++this.nextId}`;
    return new Promise<BusReply<C, K>>((resolve, reject) => {
      this.expect(id, resolve, reject, `${kind} to ${to}`);
      this.publish(this.redis.keys.channel(to), { f: this.redis.instanceId, k: kind, i: id, b: body }).then(
        (receivers) => receivers === 0 && this.settle(id, undefined, `instance ${to} is not listening`),
        (error: unknown) => this.settle(id, undefined, String(error)),
      );
    });
  }

  /** A command to every other instance; resolves with the replies that came in time. */
  async broadcast<K extends keyof C & string>(kind: K, body: BusBody<C, K>): Promise<BusReply<C, K>[]> {
    const id = `${this.redis.instanceId}#${++this.nextId}`;
    const replies: BusReply<C, K>[] = [];
    let answered = 0;
    let expected = Number.POSITIVE_INFINITY;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.collectors.set(id, (reply, failed) => {
      answered += 1;
      if (!failed) replies.push(reply);
      if (answered >= expected) finish();
    });
    const timer = setTimeout(finish, this.timeoutMs).unref();
    try {
      // Every instance receives it, this one too (and ignores it).
      expected = (await this.publish(this.redis.keys.broadcastChannel, { f: this.redis.instanceId, k: kind, i: id, b: body })) - 1;
      if (answered >= expected) finish();
      await finished;
    } finally {
      clearTimeout(timer);
      this.collectors.delete(id);
    }
    return replies;
  }

  private publish(channel: string, message: BusMessage): Promise<number> {
    return this.redis.publish(channel, JSON.stringify(message));
  }

  private expect(id: string, resolve: (body: unknown) => void, reject: (error: Error) => void, what: string): void {
    const timer = setTimeout(() => this.settle(id, undefined, `${what}: no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    timer.unref();
    this.pending.set(id, { resolve, reject, timer });
  }

  private settle(id: string, body: unknown, error?: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error === undefined) pending.resolve(body);
    else pending.reject(new BusCommandError(error));
  }

  private receive(raw: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      this.logger.warn('unreadable bus message');
      return;
    }
    if (message.f === this.redis.instanceId) return;
    if ('r' in message) {
      const collect = this.collectors.get(message.r);
      return collect ? collect(message.b, message.e !== undefined) : this.settle(message.r, message.b, message.e);
    }
    const handler = this.handlers.get(message.k as keyof C);
    if (!handler) return;
    const { f: from, i: id } = message;
    const answer = (handled: Handled<unknown> | void): void => {
      if (id !== undefined && handled) {
        void this.publish(this.redis.keys.channel(from), { f: this.redis.instanceId, r: id, b: handled.reply }).catch(() => undefined);
      }
      handled?.afterReply?.();
    };
    const fail = (error: unknown): void => {
      this.logger.error({ kind: message.k, from, err: String(error) }, 'bus command failed');
      if (id !== undefined)
        void this.publish(this.redis.keys.channel(from), { f: this.redis.instanceId, r: id, e: 'failed' }).catch(() => undefined);
    };
    try {
      const result = handler(message.b, from);
      // Synchronous answers go out at once, so that what `afterReply` causes follows them on the wire.
      if (result instanceof Promise) result.then(answer, fail);
      else answer(result);
    } catch (error) {
      fail(error);
    }
  }
}
