import { lastValueFrom, toArray } from 'rxjs';
import { type CaptureFormat, Microphone } from '../src/index.js';
import { FakeCaptureContext, type FakeNode, type FakeScriptProcessor, FakeStream, FakeWorkletNode } from './support/fake-web-audio.js';

const FORMAT: CaptureFormat = { codec: 'pcm_s16le', sample_rate: 16_000, channels: 1 };

/** The globals a browser has and Node does not, for the time of a test. */
const globals = globalThis as unknown as Record<string, unknown>;

/**
 * The Microphone's plumbing, on fake getUserMedia and Web Audio: what it
 * asks the browser for, how its graph is wired and torn down, and what it
 * makes of the samples. (With Chromium's fake microphone: test/browser/voice.e2e-spec.ts.)
 */
describe('Microphone', () => {
  let stream: FakeStream;
  let asked: MediaStreamConstraints[];
  let refusal: Error | undefined;
  let created: FakeCaptureContext[];
  const saved = new Map<string, PropertyDescriptor | undefined>();

  const stub = (name: string, value: unknown) => {
    if (!saved.has(name)) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  };

  beforeEach(() => {
    stream = new FakeStream();
    asked = [];
    refusal = undefined;
    created = [];
    stub('navigator', {
      mediaDevices: {
        getUserMedia: async (constraints: MediaStreamConstraints) => {
          asked.push(constraints);
          if (refusal) throw refusal;
          return stream;
        },
      },
    });
    stub(
      'AudioContext',
      class extends FakeCaptureContext {
        constructor() {
          super();
          created.push(this);
        }
      },
    );
  });

  afterEach(() => {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else Reflect.deleteProperty(globals, name);
    }
    saved.clear();
  });

  it('asks for the microphone with echo cancellation, noise suppression and gain control, one channel, and the caller’s own constraints', async () => {
    const capture = await new Microphone({ constraints: { deviceId: 'usb-mic', noiseSuppression: false } }).open(FORMAT);
    expect(asked).toEqual([
      { audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: true, channelCount: 1, deviceId: 'usb-mic' } },
    ]);
    capture.stop();
  });

  it('turns 48 kHz samples into 20 ms chunks of 16-bit PCM at 16 kHz (ScriptProcessor where there is no AudioWorklet)', async () => {
    const capture = await new Microphone().open(FORMAT);
    const [context] = created;
    expect(context.state).toBe('running');
    const [processor] = context.nodesOf<FakeScriptProcessor>('script-processor');
    const [source] = context.nodesOf('stream-source');
    const [mute] = context.nodesOf<FakeNode & { gain: { value: number } }>('gain');
    // Microphone → processor → a muted gain → the output (a node nobody pulls is not run).
    expect(source.connectedTo).toEqual([processor]);
    expect(processor.connectedTo).toEqual([mute]);
    expect(mute.gain.value).toBe(0);
    expect(mute.connectedTo).toEqual([context.destination]);

    const chunks = lastValueFrom(capture.chunks$.pipe(toArray()));
    for (let block = 0; block < 10; block++) processor.process(new Float32Array(2048).fill(0.25));
    capture.stop();
    const all = await chunks;
    // 20 480 samples at 48 kHz are 6827 at 16 kHz: 21 whole chunks, then the rest at the stop.
    expect(all.slice(0, -1).map((c) => c.length)).toEqual(Array(21).fill(640));
    expect(all.reduce((sum, c) => sum + c.length, 0)).toBe(2 * 6827);
    const steady = new Int16Array(all[10].buffer);
    expect(Math.min(...steady)).toBe(Math.round(0.25 * 32767));
  });

  it('stops: the device released, the graph taken down, its own context closed, the stream complete', async () => {
    const capture = await new Microphone().open(FORMAT);
    const [context] = created;
    let completed = false;
    capture.chunks$.subscribe({ complete: () => (completed = true) });
    capture.stop();
    capture.stop();
    expect(stream.tracks.every((t) => t.stopped)).toBe(true);
    expect(context.nodes.every((n) => n.disconnected)).toBe(true);
    expect(context.nodesOf<FakeScriptProcessor>('script-processor')[0].onaudioprocess).toBeNull();
    expect(context.state).toBe('closed');
    expect(completed).toBe(true);
  });

  it('leaves a context it was given open', async () => {
    const shared = new FakeCaptureContext();
    const capture = await new Microphone({ context: shared as unknown as AudioContext }).open(FORMAT);
    capture.stop();
    expect(created).toEqual([]);
    expect(shared.state).toBe('running');
    expect(stream.tracks[0].stopped).toBe(true);
  });

  it('ends the capture when the device goes away', async () => {
    const capture = await new Microphone().open(FORMAT);
    let completed = false;
    capture.chunks$.subscribe({ complete: () => (completed = true) });
    stream.tracks[0].end();
    expect(completed).toBe(true);
    expect(created[0].state).toBe('closed');
  });

  it('passes on a refusal, and closes the context it made for nothing', async () => {
    refusal = new Error('NotAllowedError: Permission denied');
    await expect(new Microphone().open(FORMAT)).rejects.toThrow('Permission denied');
    expect(created[0].state).toBe('closed');
  });

  describe('with an AudioWorklet', () => {
    let modules: string[];
    let failModule: boolean;

    beforeEach(() => {
      modules = [];
      failModule = false;
      stub('AudioWorkletNode', FakeWorkletNode);
    });

    const workletContext = () => {
      const context = new FakeCaptureContext();
      context.audioWorklet = {
        addModule: async (url: string) => {
          modules.push(url);
          if (failModule) throw new Error('blocked by the page’s policy');
        },
      };
      return context;
    };

    it('reads the samples in a worklet, one channel, in batches of 20 ms, and adds its module once per context', async () => {
      const context = workletContext();
      const microphone = new Microphone({ context: context as unknown as AudioContext });
      const capture = await microphone.open(FORMAT);
      const [node] = context.nodesOf<FakeWorkletNode>('worklet');
      expect(node.name).toBe('agent-gateway-capture');
      expect(node.options).toMatchObject({ channelCount: 1, channelCountMode: 'explicit', processorOptions: { batchFrames: 960 } });
      expect(modules).toHaveLength(1);
      expect(modules[0]).toMatch(/^blob:/);

      const chunks = lastValueFrom(capture.chunks$.pipe(toArray()));
      for (let batch = 0; batch < 5; batch++) node.post(new Float32Array(960));
      capture.stop();
      expect(node.port.closed).toBe(true);
      expect((await chunks).slice(0, 4).map((c) => c.length)).toEqual([640, 640, 640, 640]);

      (await microphone.open(FORMAT)).stop();
      expect(modules).toHaveLength(1);
      expect(context.nodesOf('script-processor')).toEqual([]);
    });

    it('falls back to a ScriptProcessor when the module cannot be added', async () => {
      failModule = true;
      const context = workletContext();
      (await new Microphone({ context: context as unknown as AudioContext }).open(FORMAT)).stop();
      expect(context.nodesOf('worklet')).toEqual([]);
      expect(context.nodesOf('script-processor')).toHaveLength(1);
    });
  });
});
