import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Observable } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { LoggedFrame } from '../session/event-log.js';
import { SessionLogMirror } from '../session/session-log-mirror.js';
import { RedisService } from '../redis/redis.service.js';

type StreamEntry = [id: Buffer, fields: Buffer[]];

/**
 * The sessions' event logs in Redis Streams, so that a RESUME or a REST task
 * read on another instance sees the same frames: one stream per session, entry
 * id `0-<seq>`, fields `a` (sent at, ms), `d` (the frame as sent) and `b`
 * (present for binary audio frames). Bounded like the in-memory log: about
 * EVENT_LOG_MAX_FRAMES entries (trimmed as they are added), frames older than
 * EVENT_LOG_MAX_AGE_MS not replayed, the stream gone that long after its last
 * frame.
 */
@Injectable()
export class RedisEventLog extends SessionLogMirror {
  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(RedisEventLog.name) private readonly logger: PinoLogger,
  ) {
    super();
  }

  override get enabled(): boolean {
    return this.redis.enabled;
  }

  override append(sessionId: string, frame: LoggedFrame): void {
    const key = this.redis.keys.log(sessionId);
    const { maxFrames, maxAgeMs } = this.config.eventLog;
    const fields: (string | Buffer)[] = ['a', String(frame.at), 'd', typeof frame.data === 'string' ? frame.data : Buffer.from(frame.data)];
    if (typeof frame.data !== 'string') fields.push('b', '1');
    this.redis.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', String(maxFrames), `0-${frame.seq}`, ...fields)
      .pexpire(key, maxAgeMs)
      .exec()
      .catch((error: unknown) =>
        this.logger.debug({ session_id: sessionId, seq: frame.seq, err: String(error) }, 'frame not logged in Redis'),
      );
  }

  /** The latest frame number logged for the session (0 when none). */
  async lastSeq(sessionId: string): Promise<number> {
    const latest = (await this.redis.redis.xrevrange(this.redis.keys.log(sessionId), '+', '-', 'COUNT', 1)).at(0);
    return latest ? seqOf(latest[0]) : 0;
  }

  /** Frames after `after` up to `until` (inclusive, default all), in order; `gap` when some are no longer kept. */
  async since(sessionId: string, after: number, until?: number): Promise<{ frames: LoggedFrame[]; gap: boolean }> {
    const entries = (await this.redis.redis.xrangeBuffer(
      this.redis.keys.log(sessionId),
      `(0-${after}`,
      until === undefined ? '+' : `0-${until}`,
    )) as StreamEntry[];
    const oldestAllowed = Date.now() - this.config.eventLog.maxAgeMs;
    const all = entries.map(toFrame);
    const frames = all.filter((frame) => frame.at >= oldestAllowed);
    const first = frames.at(0)?.seq;
    const expected = until ?? (await this.lastSeq(sessionId));
    const gap = expected > after && (first === undefined || first > after + 1);
    return { frames, gap };
  }

  /**
   * Frames after `after` as they are logged, read with XREAD BLOCK on a
   * connection of its own; unsubscribing closes that connection.
   */
  follow(sessionId: string, after: number): Observable<LoggedFrame> {
    return new Observable<LoggedFrame>((subscriber) => {
      const connection = this.redis.duplicate();
      const key = this.redis.keys.log(sessionId);
      let last = after;
      let closed = false;
      const read = async (): Promise<void> => {
        while (!closed) {
          const result = await connection.xreadBuffer('BLOCK', 0, 'STREAMS', key, `0-${last}`);
          for (const [, entries] of result ?? []) {
            for (const entry of entries) {
              const frame = toFrame(entry);
              last = frame.seq;
              subscriber.next(frame);
            }
          }
        }
      };
      read().catch((error: unknown) => {
        if (!closed) subscriber.error(error);
      });
      return () => {
        closed = true;
        connection.disconnect();
      };
    });
  }
}

function seqOf(id: Buffer | string): number {
  return Number(String(id).split('-')[1]);
}

function toFrame([id, fields]: StreamEntry): LoggedFrame {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i].toString(), fields[i + 1]);
  const data = values.get('d') ?? Buffer.alloc(0);
  return {
    seq: seqOf(id),
    size: data.length,
    at: Number(values.get('a')?.toString() ?? 0),
    data: values.has('b') ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString('utf8'),
  };
}
