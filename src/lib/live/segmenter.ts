/**
 * Live utterance detection from Silero's per-frame speech probabilities (512 samples = 32 ms at 16 kHz).
 *
 * - An utterance opens when a frame reaches `threshold`; it is announced (`start`) once it holds
 *   `minSpeechMs` of speech frames (shorter blips are dropped silently).
 * - Frames at or above `negThreshold` keep it going (hysteresis); it ends (`end`) after `endSilenceMs`
 *   of frames below it. Its bounds are padded by `padMs` (never before the previous utterance's end).
 * - An utterance reaching `maxUtteranceSec` is cut there (`end` with `cut: true`) and, if speech goes
 *   on, the next one starts at once (the engine takes ≤ 30 s per call).
 * Sample positions are absolute, from the start of the recording.
 */
import { VAD_DEFAULTS } from '../silero-vad';

export interface SegmenterOptions {
  threshold?: number;
  negThreshold?: number;
  minSpeechMs?: number;
  endSilenceMs?: number;
  padMs?: number;
  maxUtteranceSec?: number;
}

export type SegmentEvent =
  | { type: 'start'; start: number }
  | { type: 'end'; start: number; end: number; cut: boolean };

export const LIVE_VAD = Object.freeze({
  threshold: VAD_DEFAULTS.threshold,
  negThreshold: VAD_DEFAULTS.negThreshold,
  minSpeechMs: 250,
  endSilenceMs: 600,
  padMs: 200,
  maxUtteranceSec: 28,
});

const FRAME = VAD_DEFAULTS.frameSamples;
const RATE = VAD_DEFAULTS.sampleRate;

export class UtteranceSegmenter {
  readonly #o: Required<SegmenterOptions>;
  /** Frames seen so far. */
  #frame = 0;
  #open = false;
  #announced = false;
  #startSample = 0;
  #speechFrames = 0;
  #lastSpeechFrame = 0;
  #prevEnd = 0;

  constructor(options: SegmenterOptions = {}) {
    this.#o = { ...LIVE_VAD, ...options };
  }

  get framesSeen(): number {
    return this.#frame;
  }

  /** The announced utterance still open (its start sample), or null. */
  get openStart(): number | null {
    return this.#open && this.#announced ? this.#startSample : null;
  }

  #ms(frames: number): number {
    return (frames * FRAME * 1000) / RATE;
  }

  #pad(): number {
    return Math.round((this.#o.padMs * RATE) / 1000);
  }

  push(probs: ArrayLike<number>): SegmentEvent[] {
    const out: SegmentEvent[] = [];
    const o = this.#o;
    for (let i = 0; i < probs.length; i++) {
      const f = this.#frame++;
      const p = probs[i];
      if (!this.#open) {
        if (p >= o.threshold) {
          this.#open = true;
          this.#announced = false;
          this.#speechFrames = 1;
          this.#lastSpeechFrame = f;
          this.#startSample = Math.max(this.#prevEnd, f * FRAME - this.#pad());
          this.#announce(out);
        }
        continue;
      }
      if (p >= o.threshold) this.#speechFrames++;
      if (p >= o.negThreshold) this.#lastSpeechFrame = f;
      this.#announce(out);
      const endOfAudio = (f + 1) * FRAME;
      if (this.#ms(f - this.#lastSpeechFrame) >= o.endSilenceMs) {
        this.#close(out, Math.min(endOfAudio, (this.#lastSpeechFrame + 1) * FRAME + this.#pad()), false);
      } else if (this.#announced && endOfAudio + FRAME - this.#startSample > o.maxUtteranceSec * RATE) {
        this.#close(out, endOfAudio, true);
        if (p >= o.negThreshold) {
          // Speech goes on: the next utterance starts right here.
          this.#open = true;
          this.#announced = true;
          this.#speechFrames = 1;
          this.#lastSpeechFrame = f;
          this.#startSample = endOfAudio;
          out.push({ type: 'start', start: endOfAudio });
        }
      }
    }
    return out;
  }

  /** Ends the open utterance (if announced) at `totalSamples`, e.g. when the recording stops. */
  finish(totalSamples: number): SegmentEvent[] {
    const out: SegmentEvent[] = [];
    if (this.#open) this.#close(out, Math.max(this.#startSample, Math.min(totalSamples, (this.#lastSpeechFrame + 1) * FRAME + this.#pad())), false);
    return out;
  }

  #announce(out: SegmentEvent[]): void {
    if (!this.#announced && this.#ms(this.#speechFrames) >= this.#o.minSpeechMs) {
      this.#announced = true;
      out.push({ type: 'start', start: this.#startSample });
    }
  }

  #close(out: SegmentEvent[], end: number, cut: boolean): void {
    if (this.#announced) {
      out.push({ type: 'end', start: this.#startSample, end, cut });
      this.#prevEnd = end;
    }
    this.#open = false;
    this.#announced = false;
  }
}
