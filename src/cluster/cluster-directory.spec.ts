import { randomUUID } from 'node:crypto';
import { deleteKeys, SHARED_REDIS_URL } from '../../test/support/redis-server.js';
import { silentLogger } from '../../test/support/silent-logger.js';
import { loadConfig } from '../config/config.schema.js';
import { ClusterDirectory } from './cluster-directory.service.js';
import type { LostRequest, RequestRecord } from './directory-records.js';
import { RedisService } from '../redis/redis.service.js';

/** The directory's atomic steps, on the machine's Redis: what makes a dead instance's requests end exactly once. */
describe('ClusterDirectory on Redis', () => {
  let prefix: string;
  let dead: RedisService;
  let reaper: RedisService;

  const instance = async (id: string) => {
    const cluster = new RedisService(
      loadConfig({ REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, INSTANCE_ID: id }),
      silentLogger(),
    );
    await cluster.onModuleInit();
    return cluster;
  };
  const record = (sessionId: string, requestId: string): RequestRecord => ({
    session_id: sessionId,
    request_id: requestId,
    user_id: 'u',
    durable: true,
    transport: 'ws',
    started_at: 1,
  });
  const lost = (requestId: string): LostRequest => ({ request_id: requestId, text_frames: 3, voice_frames: 0, started_at: 1 });
  /** Writes are fire-and-forget; a read on the same connection comes after them. */
  const written = (cluster: RedisService) => cluster.redis.ping();

  beforeEach(async () => {
    prefix = `agw-test:${randomUUID()}:`;
    [dead, reaper] = await Promise.all([instance('D'), instance('R')]);
  });

  afterEach(async () => {
    await Promise.all([dead.onApplicationShutdown(), reaper.onApplicationShutdown()]);
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('reports each lost request once, however often a reaper retries, and hands each over once', async () => {
    const deadDirectory = new ClusterDirectory(dead, silentLogger());
    deadDirectory.putRequest(record('s1', 'r1'));
    deadDirectory.putRequest(record('s1', 'r2'));
    await written(dead);
    const directory = new ClusterDirectory(reaper, silentLogger());

    expect(await directory.runningOn('D', 's1')).toEqual(expect.arrayContaining(['r1', 'r2']));
    expect(await directory.reportLost('D', 's1', [lost('r1')], 60_000)).toBe(1);
    expect(await directory.reportLost('D', 's1', [lost('r1'), lost('r2')], 60_000)).toBe(1);
    expect(await directory.reportLost('D', 's1', [lost('r1'), lost('r2')], 60_000)).toBe(0);
    expect(await directory.runningOn('D', 's1')).toEqual([]);
    expect(await directory.sessionRequests('s1')).toEqual(new Map());
    expect(await directory.sessionsWithLost()).toEqual(['s1']);

    const [first, second] = await Promise.all([directory.takeLost('s1'), directory.takeLost('s1')]);
    expect([...first, ...second].map((request) => request.request_id).sort()).toEqual(['r1', 'r2']);
    expect(await directory.takeLost('s1')).toEqual([]);
    expect(await directory.sessionsWithLost()).toEqual([]);
  });

  it('does not take a request for running when only its owner entry outlived it', async () => {
    const deadDirectory = new ClusterDirectory(dead, silentLogger());
    deadDirectory.putRequest(record('s1', 'r1'));
    deadDirectory.putRequest(record('s1', 'r2'));
    await written(dead);
    // r1 ended while Redis was away; the instance's records were written again, its owner entry stayed.
    deadDirectory.replaceRequests([record('s1', 'r2')]);
    await written(dead);
    expect(await new ClusterDirectory(reaper, silentLogger()).runningOn('D', 's1')).toEqual(['r2']);
  });
});
