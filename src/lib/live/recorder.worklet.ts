/**
 * AudioWorklet processor of live mode: forwards the microphone's samples (channel average, device
 * rate) to the page in batches of ~2048 frames, with the batch's peak level. It does nothing else, so
 * the audio thread never waits for anything. Loaded with `audioWorklet.addModule(url)` (Vite
 * `?worker&url` import: a same-origin script, allowed by the app's CSP).
 */

// The AudioWorkletGlobalScope isn't in TypeScript's DOM lib: what this file uses of it.
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

const BATCH = 2048;

class LiveRecorderProcessor extends AudioWorkletProcessor {
  #buf = new Float32Array(BATCH);
  #n = 0;
  #peak = 0;
  #stopped = false;

  constructor() {
    super();
    this.port.onmessage = (ev: MessageEvent) => {
      if (ev.data === 'stop') {
        this.#send();
        this.#stopped = true;
        this.port.postMessage({ type: 'flushed' });
      }
    };
  }

  #send(): void {
    if (this.#n === 0) return;
    const samples = this.#buf.slice(0, this.#n);
    this.port.postMessage({ type: 'audio', samples, peak: this.#peak }, [samples.buffer]);
    this.#n = 0;
    this.#peak = 0;
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    const k = 1 / channels.length;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels.length; c++) s += channels[c][i];
      s *= k;
      const a = s < 0 ? -s : s;
      if (a > this.#peak) this.#peak = a;
      this.#buf[this.#n++] = s;
      if (this.#n === BATCH) this.#send();
    }
    return true;
  }
}

registerProcessor('live-recorder', LiveRecorderProcessor);
