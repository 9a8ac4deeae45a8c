import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys, SHARED_REDIS_URL } from '../../test/support/redis-server.js';
import { silentLogger } from '../../test/support/silent-logger.js';
import { loadConfig } from '../config/config.schema.js';
import { InMemoryConversationStore } from '../conversation/conversation.store.js';
import { ConversationService } from '../conversation/conversation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisKeys } from '../redis/redis-keys.js';
import { RedisService } from '../redis/redis.service.js';
import { RequestRegistry } from '../requests/request-registry.service.js';
import { audioFrame, jsonFrame } from '../session/outbound-frame.js';
import { SessionLifecycle } from '../session/session-lifecycle.service.js';
import { SessionRegistry } from '../session/session-registry.service.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { RequestRecord, SessionRecord } from './directory-records.js';
import { InstanceReaper } from './instance-reaper.service.js';
import { LostRequests } from './lost-requests.service.js';
import { RedisEventLog } from './redis-event-log.js';
import { SessionMove } from './session-move.js';

/** One gateway instance's cluster side, on the machine's Redis, with what a reaper needs; `reap` starts its sweeps. */
async function instance(prefix: string, id: string, env: Record<string, string> = {}) {
  const logger = silentLogger();
  const config = loadConfig({
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    INSTANCE_ID: id,
    CLUSTER_INSTANCE_TTL_MS: '300',
    ...env,
  });
  const redis = new RedisService(config, logger);
  await redis.onModuleInit();
  const directory = new ClusterDirectory(redis, logger);
  const log = new RedisEventLog(redis, config, logger);
  const bus = new ClusterBus(redis, config, logger);
  bus.onModuleInit();
  const metrics = new MetricsService();
  const sessions = new SessionRegistry(config, metrics, log);
  const lifecycle = new SessionLifecycle(
    sessions,
    new ConversationService(new InMemoryConversationStore(), config),
    new RequestRegistry(metrics),
    config,
    logger,
  );
  const lost = new LostRequests(redis, bus, directory, sessions, config, logger);
  const reaper = new InstanceReaper(redis, directory, log, new SessionMove(redis, bus, directory, log, logger), lifecycle, lost, logger);
  return {
    redis,
    directory,
    log,
    bus,
    sessions,
    lifecycle,
    reap: () => {
      lost.onModuleInit();
      reaper.onModuleInit();
    },
    close: async () => {
      reaper.onApplicationShutdown();
      bus.onApplicationShutdown();
      sessions.all().forEach((session) => lifecycle.end(session, 'TEST_OVER'));
      await redis.onApplicationShutdown();
    },
  };
}
type Instance = Awaited<ReturnType<typeof instance>>;
const restored = { platform: 'web', requireTts: false, audioTransport: 'json' as const, durable: false, clientTools: new Map() };

const sessionRecord = (userId: string): SessionRecord => ({
  user_id: userId,
  admin: false,
  platform: 'web',
  require_tts: false,
  audio_transport: 'json',
  durable: true,
  client_tools: [],
  created_at: Date.now(),
});
const requestRecord = (sessionId: string, requestId: string): RequestRecord => ({
  session_id: sessionId,
  request_id: requestId,
  user_id: 'alice',
  durable: true,
  transport: requestId.startsWith('task_') ? 'task' : 'ws',
  started_at: Date.now() - 1000,
});
const text = (sessionId: string, requestId: string, seq: number, textSeq: number) => {
  const data = jsonFrame('RESPONSE', { request_id: requestId, text_stream_seq: textSeq, content: { text: 'word ' } }, sessionId).render(
    seq,
  );
  return { seq, data, size: data.length, at: Date.now() };
};
const audio = (requestId: string, seq: number, voiceSeq: number) => {
  const data = audioFrame({ id: requestId, handle: `h_${requestId}` }, voiceSeq, new Uint8Array(320)).render(seq);
  return { seq, data, size: data.length, at: Date.now() };
};

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Envelope {
  msg_type: string;
  seq: number;
  payload: { request_id?: string; code?: string; text_stream_seq?: number };
}

/** The dead instance took: its session s1 (r1: two text and one audio frame sent; task_2: one text frame). */
describe('InstanceReaper on Redis', () => {
  let prefix: string;
  let started: Instance[];
  const start = async (id: string, env: Record<string, string> = {}) => {
    const made = await instance(prefix, id, env);
    started.push(made);
    return made;
  };
  /** D ran s1 and its requests, then died: its heartbeat is gone, it is still listed among the instances. */
  const deadInstanceD = async (extra: (dead: Instance) => void = () => undefined) => {
    const dead = await instance(prefix, 'D');
    dead.directory.putSession('s1', sessionRecord('alice'));
    dead.directory.putRequest(requestRecord('s1', 'r1'));
    dead.directory.putRequest(requestRecord('s1', 'task_2'));
    dead.directory.putTask({
      task_id: 'task_2',
      session_id: 's1',
      user_id: 'alice',
      owner: 'D',
      state: 'running',
      created_at: 1,
      ended_at: null,
      end: null,
    });
    for (const frame of [text('s1', 'r1', 1, 0), text('s1', 'r1', 2, 1), audio('r1', 3, 0), text('s1', 'task_2', 4, 0)])
      dead.log.append('s1', frame);
    extra(dead);
    await dead.redis.ping();
    // Gone on purpose would leave nothing to reap: it is listed again, with no heartbeat, as after a crash.
    await dead.close();
    const marker = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await marker.connect();
    await marker.sadd(new RedisKeys(prefix).instances, 'D');
    marker.disconnect();
  };
  /** The frames of a session in the shared log after `seq`, once there are `count`. */
  const sharedFrames = (reader: Instance, sessionId: string, seq: number, count: number) =>
    until(async () => {
      const { frames } = await reader.log.since(sessionId, seq);
      return frames.length >= count ? frames.map((frame) => JSON.parse(frame.data as string) as Envelope) : undefined;
    }, `${count} frames of ${sessionId}`);

  beforeEach(() => {
    prefix = `agw-test:${randomUUID()}:`;
    started = [];
  });

  afterEach(async () => {
    await Promise.all(started.map((made) => made.close()));
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('takes over a dead instance’s session and ends each of its requests with INSTANCE_LOST, counted from the log', async () => {
    await deadInstanceD();
    const reaper = await start('R');
    reaper.reap();

    const frames = await sharedFrames(reaper, 's1', 4, 4);
    expect(frames.map((f) => f.seq)).toEqual([5, 6, 7, 8]);
    const of = (requestId: string) => frames.filter((f) => f.payload.request_id === requestId).map((f) => f.msg_type);
    expect(of('r1')).toEqual(['ERROR', 'RESPONSE']);
    expect(of('task_2')).toEqual(['ERROR', 'RESPONSE']);
    const end = (requestId: string) => frames.find((f) => f.payload.request_id === requestId && f.payload.text_stream_seq === -1)?.payload;
    expect(end('r1')).toMatchObject({
      interrupted: false,
      error: { code: 'INSTANCE_LOST' },
      usage: { completion_tokens: 2, source: 'estimated' },
      voice_frames: 1,
    });
    expect(end('task_2')).toMatchObject({ error: { code: 'INSTANCE_LOST' }, usage: { completion_tokens: 1 }, voice_frames: 0 });

    const adopted = reaper.sessions.find('s1');
    expect(adopted?.userId).toBe('alice');
    expect(adopted?.prefs.durable).toBe(true);
    expect((await reaper.directory.session('s1'))?.owner).toBe('R');
    expect(await reaper.directory.task('task_2')).toMatchObject({ state: 'failed', end: { error: { code: 'INSTANCE_LOST' } } });
    await until(async () => ((await reaper.directory.deadInstances()).length === 0 ? true : undefined), 'D to be forgotten');
    expect(await reaper.directory.instanceRequests('D')).toEqual([]);
    expect(await reaper.directory.instanceSessions('D')).toEqual([]);
  });

  it('leaves a session that a live instance owns there, and tells that owner of its lost requests', async () => {
    const owner = await start('L');
    const told: string[] = [];
    owner.bus.handle('requests-lost', ({ session_id: sessionId }) => void told.push(sessionId));
    owner.directory.putSession('s2', sessionRecord('alice'));
    owner.log.append('s2', text('s2', 'r3', 1, 0));
    await owner.redis.ping();
    // r3 still ran on D when its session moved to L.
    await deadInstanceD((dead) => dead.directory.putRequest(requestRecord('s2', 'r3')));
    const reaper = await start('R');
    reaper.reap();

    await until(async () => (told.length > 0 ? true : undefined), 'L to be told');
    expect(told).toEqual(['s2']);
    expect(reaper.sessions.find('s2')).toBeUndefined();
    expect((await reaper.directory.session('s2'))?.owner).toBe('L');
    expect(await owner.directory.takeLost('s2')).toEqual([
      { request_id: 'r3', text_frames: 1, voice_frames: 0, started_at: expect.any(Number) as number },
    ]);
  });

  it('with two reapers at it, has the session adopted once and each request ended once', async () => {
    await deadInstanceD();
    const [first, second] = [await start('R1'), await start('R2')];
    first.reap();
    second.reap();

    await sharedFrames(first, 's1', 4, 4);
    await until(async () => ((await first.directory.deadInstances()).length === 0 ? true : undefined), 'D to be forgotten');
    // A few more sweeps of both: nothing more happens.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { frames } = await first.log.since('s1', 4);
    const ends = frames.map((frame) => JSON.parse(frame.data as string) as Envelope).filter((f) => f.payload.text_stream_seq === -1);
    expect(ends.map((f) => f.payload.request_id).sort()).toEqual(['r1', 'task_2']);
    expect([first.sessions.find('s1'), second.sessions.find('s1')].filter(Boolean)).toHaveLength(1);
  });

  // BUG (reported, not fixed here): the reaper moves the session's ownership in Redis first and adopts it after;
  // an adoption refused by this instance's limits (MAX_SESSIONS, MAX_SESSIONS_PER_KEY) throws out of the whole reap,
  // leaving the session owned in Redis by an instance that does not have it, its lost requests not ended.
  it.failing('BUG: never leaves a dead instance’s session owned, in Redis, by a reaper that had no room for it', async () => {
    await deadInstanceD();
    const reaper = await start('R', { MAX_SESSIONS: '1' });
    reaper.lifecycle.create({ userId: 'bob', admin: false }, restored);
    reaper.reap();

    await until(async () => ((await reaper.directory.deadInstances()).length === 0 ? true : undefined), 'D to be forgotten');
    const owner = (await reaper.directory.session('s1'))?.owner;
    expect({ owner, heldThere: reaper.sessions.find('s1') !== undefined }).not.toEqual({ owner: 'R', heldThere: false });
  });
});
