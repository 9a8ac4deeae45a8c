import type { FakeUpstream } from '../../test/support/fake-upstream.js';
import { BenchClient } from '../bench-client.js';
import { type Summary, summarize, within } from '../stats.js';
import type { Target } from '../targets.js';

export interface ClusterFigures {
  localAck: Summary;
  localClose: Summary;
  remoteAck: Summary;
  remoteClose: Summary;
}

/** Two instances of one kind (our gateway, or the floor) on one Redis. */
export interface Pair {
  a: Target;
  b: Target;
  /** Puts a running request of a client of `a` under a client of `b`; ours resumes the session there, the floor needs nothing. */
  reach(client: BenchClient): Promise<BenchClient>;
}

interface Sample {
  ack: number;
  close: number;
}

/** Trials run first and not counted: connections, JIT and Redis scripts warm up. */
const WARM_UP = 5;

/**
 * INTERRUPT→ACK and INTERRUPT→upstream closed when the request runs on the
 * instance the INTERRUPT reaches, and when it runs on the other one (the
 * stop crosses Redis to the owner, and the ACK waits for its answer).
 */
export async function measureCluster(pair: Pair, upstream: FakeUpstream, trials: number): Promise<ClusterFigures> {
  upstream.behavior = { kind: 'stream', intervalMs: 10 };
  upstream.clearCalls();
  const local: Sample[] = [];
  const remote: Sample[] = [];
  const here = await BenchClient.open(pair.a.wsUrl);
  for (let i = -WARM_UP; i < trials; i++) {
    await started(here, `local-${i}`);
    local.push(await interruptRunning(here, upstream, `local-${i}`));
    const owner = await BenchClient.open(pair.a.wsUrl, { durable: true });
    const id = `remote-${i}`;
    await started(owner, id);
    const elsewhere = await pair.reach(owner);
    remote.push(await interruptRunning(elsewhere, upstream, id));
    owner.close();
    if (elsewhere !== owner) elsewhere.close();
  }
  here.close();
  local.splice(0, WARM_UP);
  remote.splice(0, WARM_UP);
  return {
    localAck: summarize(local.map((s) => s.ack)),
    localClose: summarize(local.map((s) => s.close)),
    remoteAck: summarize(remote.map((s) => s.ack)),
    remoteClose: summarize(remote.map((s) => s.close)),
  };
}

async function started(client: BenchClient, id: string): Promise<void> {
  const third = client.textFrame(id, 2);
  client.request(id);
  await within(third, 10_000, `first frames of ${id}`);
}

/** Interrupts a running request from `interrupter`, which may be on the other instance. */
async function interruptRunning(interrupter: BenchClient, upstream: FakeUpstream, id: string): Promise<Sample> {
  const call = await within(upstream.callAsking(`(${id})`), 10_000, `upstream call of ${id}`);
  // Only an ACK that says the request was stopped counts (a NOT_FOUND would time the run out, loudly).
  const { sentAt, ack } = interrupter.interrupt(id, true);
  const [ackAt, closedAt] = await within(Promise.all([ack, call.socketClosed]), 10_000, `interrupt of ${id}`);
  return { ack: ackAt - sentAt, close: closedAt - sentAt };
}
