/** The name the capture processor registers under, in each context that loads it. */
export const CAPTURE_PROCESSOR = 'agent-gateway-capture';

/**
 * The AudioWorklet module that reads the microphone, loaded from a Blob URL
 * (so that the SDK ships as one file). It hands the input's samples to the
 * page in batches of `processorOptions.batchFrames`: one message per render
 * quantum of 128 frames would be 375 a second. Each batch's buffer is
 * transferred, not copied, so a new one is made after each; its size is kept
 * apart, as a transferred array has length 0. The node's input is mixed down
 * to one channel by the browser (channelCount 1, explicit).
 */
export const CAPTURE_WORKLET_SOURCE = `registerProcessor('${CAPTURE_PROCESSOR}', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = Math.max(1, options.processorOptions.batchFrames);
    this.batch = new Float32Array(this.size);
    this.filled = 0;
  }
  process(inputs) {
    const samples = inputs[0] && inputs[0][0];
    if (samples) {
      for (let i = 0; i < samples.length; i++) {
        this.batch[this.filled++] = samples[i];
        if (this.filled === this.size) {
          this.port.postMessage(this.batch, [this.batch.buffer]);
          this.batch = new Float32Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
});`;
