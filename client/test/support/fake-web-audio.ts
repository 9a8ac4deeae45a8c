/**
 * Just enough Web Audio for Node, on a clock the test moves: what the SDK's
 * player schedules is recorded (which buffer, from where, when, until when),
 * so that a test can tell exactly what the listener heard. The real thing
 * runs in Chromium (test/browser/).
 */

export class FakeAudioBuffer {
  readonly duration: number;

  constructor(
    /** Creation order: the nth buffer made is the nth frame decoded. */
    readonly index: number,
    readonly numberOfChannels: number,
    readonly length: number,
    readonly sampleRate: number,
  ) {
    this.duration = length / sampleRate;
  }

  copyToChannel(): void {
    // The samples do not matter here, only how long they last.
  }
}

export class FakeBufferSource {
  buffer: FakeAudioBuffer | null = null;
  onended: (() => void) | null = null;
  startedAt?: number;
  offset = 0;
  stoppedAt?: number;
  private ended = false;

  constructor(private readonly context: FakeAudioContext) {}

  connect(): void {
    // Always to the destination, for the player.
  }

  disconnect(): void {
    // Nothing is routed.
  }

  start(when = 0, offset = 0): void {
    this.startedAt = Math.max(when, this.context.currentTime);
    this.offset = offset;
  }

  stop(): void {
    this.stoppedAt ??= this.context.currentTime;
  }

  /** When it falls silent: at the buffer's end, or when stopped, whichever is first. */
  get endsAt(): number {
    const natural = (this.startedAt ?? Number.POSITIVE_INFINITY) + (this.buffer?.duration ?? 0) - this.offset;
    return Math.min(natural, this.stoppedAt ?? Number.POSITIVE_INFINITY);
  }

  /** The stretch of its buffer that was heard, in the buffer's own seconds, as of `now`. */
  heard(now: number): { from: number; to: number } | undefined {
    if (this.startedAt === undefined || this.startedAt >= Math.min(now, this.endsAt)) return undefined;
    return { from: this.offset, to: this.offset + Math.min(now, this.endsAt) - this.startedAt };
  }

  /** As the audio thread would: onended once it has fallen silent. */
  tick(now: number): void {
    if (this.ended || this.startedAt === undefined || this.endsAt > now) return;
    this.ended = true;
    this.onended?.();
  }
}

export class FakeAudioContext {
  currentTime = 0;
  readonly sampleRate: number;
  readonly destination = {};
  state: 'running' | 'suspended' | 'closed' = 'suspended';
  readonly sources: FakeBufferSource[] = [];
  readonly buffers: FakeAudioBuffer[] = [];

  constructor({ sampleRate = 48_000 }: { sampleRate?: number } = {}) {
    this.sampleRate = sampleRate;
  }

  resume(): Promise<void> {
    this.state = 'running';
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.state = 'closed';
    return Promise.resolve();
  }

  createBuffer(channels: number, length: number, sampleRate: number): FakeAudioBuffer {
    const buffer = new FakeAudioBuffer(this.buffers.length, channels, length, sampleRate);
    this.buffers.push(buffer);
    return buffer;
  }

  createBufferSource(): FakeBufferSource {
    const source = new FakeBufferSource(this);
    this.sources.push(source);
    return source;
  }

  /** Moves the clock on in small steps, ending sources on the way, in the order they end. */
  advance(seconds: number): void {
    const until = this.currentTime + seconds;
    while (this.currentTime < until) {
      this.currentTime = Math.min(until, this.currentTime + 0.001);
      for (const source of [...this.sources].sort((a, b) => a.endsAt - b.endsAt)) source.tick(this.currentTime);
    }
  }

  /** What was heard of a buffer so far, as stretches of its own time, in the order they played. */
  heardOf(buffer: FakeAudioBuffer): { from: number; to: number }[] {
    return this.sources
      .filter((source) => source.buffer === buffer)
      .flatMap((source) => {
        const heard = source.heard(this.currentTime);
        return heard && heard.to - heard.from > 1e-9 ? [{ start: source.startedAt ?? 0, ...heard }] : [];
      })
      .sort((a, b) => a.start - b.start)
      .map(({ from, to }) => ({ from, to }));
  }
}

/** A node of the capture graph: who it is connected to, and whether it still is. */
export class FakeNode {
  readonly connectedTo: FakeNode[] = [];
  disconnected = false;
  channelCountMode = 'max';

  constructor(readonly kind: string) {}

  connect<T extends FakeNode>(node: T): T {
    this.connectedTo.push(node);
    return node;
  }

  disconnect(): void {
    this.disconnected = true;
  }
}

export class FakeScriptProcessor extends FakeNode {
  onaudioprocess: ((event: { inputBuffer: { getChannelData(channel: number): Float32Array } }) => void) | null = null;

  constructor(readonly bufferSize: number) {
    super('script-processor');
  }

  /** The audio thread hands it samples. */
  process(samples: Float32Array): void {
    this.onaudioprocess?.({ inputBuffer: { getChannelData: () => samples } });
  }
}

/** A track of a fake getUserMedia stream. */
export class FakeTrack {
  stopped = false;
  private readonly listeners: (() => void)[] = [];

  stop(): void {
    this.stopped = true;
  }

  addEventListener(_type: 'ended', listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The device went away. */
  end(): void {
    for (const listener of this.listeners) listener();
  }
}

export class FakeStream {
  readonly tracks = [new FakeTrack()];

  getTracks(): FakeTrack[] {
    return this.tracks;
  }

  getAudioTracks(): FakeTrack[] {
    return this.tracks;
  }
}

/** A context for capturing: sources from streams, gains, script processors, and (when given one) an AudioWorklet. */
export class FakeCaptureContext extends FakeAudioContext {
  readonly nodes: FakeNode[] = [];
  readonly destinationNode = new FakeNode('destination');
  override readonly destination = this.destinationNode;
  /** Absent unless a test gives it one (declared only: an own property, even undefined, would say the browser has worklets). */
  declare audioWorklet?: { addModule(url: string): Promise<void> };

  createMediaStreamSource(stream: FakeStream): FakeNode & { stream: FakeStream } {
    return this.add(Object.assign(new FakeNode('stream-source'), { stream }));
  }

  createGain(): FakeNode & { gain: { value: number } } {
    return this.add(Object.assign(new FakeNode('gain'), { gain: { value: 1 } }));
  }

  createScriptProcessor(bufferSize: number): FakeScriptProcessor {
    return this.add(new FakeScriptProcessor(bufferSize));
  }

  nodesOf<T extends FakeNode>(kind: string): T[] {
    return this.nodes.filter((node): node is T => node.kind === kind);
  }

  add<T extends FakeNode>(node: T): T {
    this.nodes.push(node);
    return node;
  }
}

/** AudioWorkletNode, as the SDK constructs it: its port is where the processor's batches arrive. */
export class FakeWorkletNode extends FakeNode {
  readonly port = {
    onmessage: null as ((event: { data: Float32Array }) => void) | null,
    closed: false,
    close(): void {
      this.closed = true;
    },
  };

  constructor(
    readonly context: FakeCaptureContext,
    readonly name: string,
    readonly options: Record<string, unknown>,
  ) {
    super('worklet');
    context.add(this);
  }

  /** The processor posts a batch. */
  post(samples: Float32Array): void {
    this.port.onmessage?.({ data: samples });
  }
}
