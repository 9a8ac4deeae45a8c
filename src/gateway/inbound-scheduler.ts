type Task = () => Promise<void>;

interface Queue {
  tasks: { task: Task; weight: number }[];
  /** The sum of the waiting tasks' weights (bytes, for the adapter). */
  weight: number;
}

/** Resolves on the next turn of the event loop, after its I/O callbacks. */
function nextTurn(): { done: Promise<void>; passed: () => boolean } {
  let passed = false;
  const done = new Promise<void>((resolve) =>
    setImmediate(() => {
      passed = true;
      resolve();
    }),
  );
  return { done, passed: () => passed };
}

/**
 * Handles every connection's messages in the order they arrived, one at a
 * time per connection, and the connections in turn. Handling is synchronous
 * work (validation, routing) chained through promises, which never yield to
 * I/O by themselves: here, once a turn of the event loop has spent
 * `sliceMs` on messages, the next waits for the following turn, so that no
 * connection's backlog keeps the others' sockets (and its own pings) waiting
 * longer than that. A message that waits for I/O (Redis) holds up its own
 * connection only.
 */
export class InboundScheduler {
  private readonly queues = new Map<object, Queue>();
  /** Connections whose current message is still being handled. */
  private readonly busy = new Set<object>();
  /** Connections with a message to handle and none in hand, in turn order. */
  private readonly ready: object[] = [];
  private running = false;

  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `weight` (e.g. the message's size) counts in `waiting()` until the task starts. */
  enqueue(owner: object, task: Task, weight = 0): void {
    let queue = this.queues.get(owner);
    if (!queue) {
      queue = { tasks: [], weight: 0 };
      this.queues.set(owner, queue);
    }
    queue.tasks.push({ task, weight });
    queue.weight += weight;
    if (queue.tasks.length === 1 && !this.busy.has(owner)) this.makeReady(owner);
  }

  /** The weight of a connection's tasks that have not started yet. */
  waiting(owner: object): number {
    return this.queues.get(owner)?.weight ?? 0;
  }

  /** A closed connection: what it still had queued is dropped. */
  forget(owner: object): void {
    this.queues.delete(owner);
    const index = this.ready.indexOf(owner);
    if (index >= 0) this.ready.splice(index, 1);
  }

  private makeReady(owner: object): void {
    this.ready.push(owner);
    if (!this.running) {
      this.running = true;
      // Same tick as the message's arrival, as a direct call would be, but outside the socket's event.
      queueMicrotask(() => void this.run());
    }
  }

  private async run(): Promise<void> {
    let turn = nextTurn();
    let sliceStartedAt = this.now();
    for (let owner = this.ready.shift(); owner !== undefined; owner = this.ready.shift()) {
      const queue = this.queues.get(owner);
      const next = queue?.tasks.shift();
      if (!queue || !next) continue;
      queue.weight -= next.weight;
      const done = this.start(owner, next.task);
      // Until the task settles or the loop turns: its synchronous work and microtasks count in this slice.
      await Promise.race([done, turn.done]);
      if (turn.passed() || this.now() - sliceStartedAt >= this.sliceMs) {
        await turn.done;
        turn = nextTurn();
        sliceStartedAt = this.now();
      }
    }
    this.running = false;
  }

  private start(owner: object, task: Task): Promise<void> {
    this.busy.add(owner);
    return task()
      .catch(() => undefined) // a task answers its own failures; none may stop the others
      .finally(() => {
        this.busy.delete(owner);
        const queue = this.queues.get(owner);
        if (!queue) return;
        if (queue.tasks.length > 0) this.makeReady(owner);
        else this.queues.delete(owner);
      });
  }
}
