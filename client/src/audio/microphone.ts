import { Subject } from 'rxjs';
import type { AudioCapture, AudioSource, CaptureFormat } from './audio-source.js';
import { CaptureEncoder, DEFAULT_CHUNK_MS } from './capture-encoder.js';
import { CAPTURE_PROCESSOR, CAPTURE_WORKLET_SOURCE } from './capture-worklet.js';

export interface MicrophoneOptions {
  /** The context to capture in (the player's, say); by default one of its own per capture, closed when it stops. */
  context?: AudioContext;
  /** The length of each chunk sent. Default 20 ms. */
  chunkMs?: number;
  /** Over the defaults (echo cancellation, noise suppression and gain control on, one channel): a `deviceId`, say. */
  constraints?: MediaTrackConstraints;
}

/** A worklet module is added once per context: registering the processor's name twice fails. */
const workletsLoaded = new WeakMap<BaseAudioContext, Promise<void>>();

/** Where the captured samples go, until disconnected. */
interface Tap {
  disconnect(): void;
}

/**
 * The browser's microphone, through getUserMedia (with the browser's echo
 * cancellation, so that the agent's own voice from the speakers is not taken
 * for the user's) and Web Audio: an AudioWorklet, or a ScriptProcessorNode
 * where worklets are not to be had, reads the samples; they are resampled
 * to the session's rate, made 16-bit PCM and cut into 20 ms chunks.
 *
 * Open it in a user gesture (a click): browsers start an AudioContext only
 * then.
 */
export class Microphone implements AudioSource {
  constructor(private readonly options: MicrophoneOptions = {}) {}

  async open(format: CaptureFormat): Promise<AudioCapture> {
    // Made before getUserMedia, while the gesture that asked for it still counts.
    const context = this.options.context ?? new AudioContext();
    const owned = this.options.context === undefined;
    let stream: MediaStream | undefined;
    try {
      void context.resume();
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, ...this.options.constraints },
      });
      return await this.capture(context, owned, stream, format);
    } catch (error) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      if (owned) void context.close();
      throw error;
    }
  }

  private async capture(context: AudioContext, owned: boolean, stream: MediaStream, format: CaptureFormat): Promise<AudioCapture> {
    const chunkMs = this.options.chunkMs ?? DEFAULT_CHUNK_MS;
    const encoder = new CaptureEncoder(context.sampleRate, format.sample_rate, chunkMs);
    const chunks = new Subject<Uint8Array<ArrayBuffer>>();
    const source = context.createMediaStreamSource(stream);
    const batchFrames = Math.round((context.sampleRate * chunkMs) / 1000);
    const tap = await tapSamples(context, source, batchFrames, (samples) => {
      for (const chunk of encoder.push(samples)) chunks.next(chunk);
    });
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      tap.disconnect();
      source.disconnect();
      for (const track of stream.getTracks()) track.stop();
      for (const chunk of encoder.flush()) chunks.next(chunk);
      chunks.complete();
      if (owned) void context.close();
    };
    // Unplugged, or the permission withdrawn: the capture is over.
    for (const track of stream.getAudioTracks()) track.addEventListener('ended', stop);
    return { chunks$: chunks.asObservable(), stop };
  }
}

/** Connects `source` to a node that hands its samples to `onSamples`, and on to a muted output (nodes nobody listens to are not run). */
async function tapSamples(
  context: AudioContext,
  source: MediaStreamAudioSourceNode,
  batchFrames: number,
  onSamples: (samples: Float32Array) => void,
): Promise<Tap> {
  const mute = context.createGain();
  mute.gain.value = 0;
  mute.connect(context.destination);
  const worklet = await workletNode(context, batchFrames, onSamples);
  const tap: { node: AudioNode; release: () => void } = worklet
    ? {
        node: worklet,
        release: () => {
          worklet.port.onmessage = null;
          worklet.port.close();
        },
      }
    : scriptTap(context, onSamples);
  source.connect(tap.node).connect(mute);
  return {
    disconnect: () => {
      tap.release();
      tap.node.disconnect();
      mute.disconnect();
    },
  };
}

/** Undefined where the page cannot have one: no AudioWorklet (an old browser), or a policy refusing blob: modules. */
async function workletNode(
  context: AudioContext,
  batchFrames: number,
  onSamples: (samples: Float32Array) => void,
): Promise<AudioWorkletNode | undefined> {
  if (!('audioWorklet' in context) || typeof AudioWorkletNode === 'undefined') return undefined;
  try {
    await loadWorklet(context);
  } catch {
    return undefined;
  }
  const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: 'explicit',
    channelInterpretation: 'speakers',
    processorOptions: { batchFrames },
  });
  node.port.onmessage = (event: MessageEvent<Float32Array>) => onSamples(event.data);
  return node;
}

function loadWorklet(context: AudioContext): Promise<void> {
  let loaded = workletsLoaded.get(context);
  if (!loaded) {
    const url = URL.createObjectURL(new Blob([CAPTURE_WORKLET_SOURCE], { type: 'text/javascript' }));
    loaded = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    // A failure is not kept: the next capture tries again.
    loaded.catch(() => workletsLoaded.delete(context));
    workletsLoaded.set(context, loaded);
  }
  return loaded;
}

/**
 * The fallback where there is no AudioWorklet: a ScriptProcessorNode,
 * deprecated (it runs on the page's thread), which is enough for one voice.
 */
/* eslint-disable @typescript-eslint/no-deprecated -- deliberately the deprecated API: it is the fallback for browsers without the new one */
function scriptTap(context: AudioContext, onSamples: (samples: Float32Array) => void): { node: AudioNode; release: () => void } {
  const node = context.createScriptProcessor(2048, 1, 1);
  node.channelCountMode = 'explicit';
  node.onaudioprocess = (event) => onSamples(event.inputBuffer.getChannelData(0).slice());
  return {
    node,
    release: () => {
      node.onaudioprocess = null;
    },
  };
}
/* eslint-enable @typescript-eslint/no-deprecated */
