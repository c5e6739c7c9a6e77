/**
 * Live mode: the microphone → AudioWorklet (device rate) → our resampler (16 kHz) → the recording, the
 * level meter, and the streaming Silero VAD (workers/live-vad.worker.ts) → utterances → the engine.
 *
 * Each utterance is transcribed as soon as it ends (a "final" pass). While one is still going, the
 * utterance so far is re-decoded every ~2 s of new audio (a "partial" pass) to show text early: the part
 * two passes agree on stays (settled), the tail may change (./settle.ts). The engine takes one call at a
 * time, so passes run one after another: finals first, in order; a partial is only started when no
 * final waits, and a final arriving aborts a running partial (its result would be stale anyway).
 *
 * Stopping flushes the audio, ends the open utterance (it still gets its final pass), and yields the
 * recording as a 16-bit 16 kHz mono WAV (download link + a new file in the app's queue).
 */
import type { Engine } from '../engine';
import type { MessageKey } from '../i18n/en';
import { LiveVad } from './live-vad';
import { PassScheduler, type PassJob } from './pass-scheduler';
import { PcmStore } from './pcm-store';
import { Resampler } from './resampler';
import { UtteranceSegmenter, type SegmentEvent } from './segmenter';
import { PartialSettler } from './settle';
import { encodeWav, recordingName } from './wav';
import workletUrl from './recorder.worklet.ts?worker&url';

export const LIVE_RATE = 16000;
/** New audio in a growing utterance before it is decoded again. */
const PARTIAL_EVERY_SEC = 2;
/** A partial pass is worth it only for utterances at least this long. */
const PARTIAL_MIN_SEC = 1.5;
const MAX_NEW_TOKENS = 448;

export type LiveStatus = 'idle' | 'starting' | 'recording' | 'stopping';
export type UtteranceState = 'speaking' | 'queued' | 'decoding' | 'done' | 'error';

export interface LiveUtterance {
  id: number;
  /** Seconds from the start of the recording. */
  start: number;
  end: number | null;
  state: UtteranceState;
  /** Final text, or the settled part of the partial text. */
  settled: string;
  /** Partial text that may still change ('' once final). */
  tail: string;
  error: string;
  /** Partial passes started for it (diagnostics; shown as data-partials). */
  partials: number;
}

export interface LiveRecording {
  url: string;
  name: string;
  bytes: number;
  durationSec: number;
}

export interface LiveError {
  key: MessageKey;
  detail?: string;
}

/** What live mode needs from the rest of the app. */
export interface LiveHost {
  /** The engine holding the loaded ASR model, or null when none is loaded. */
  engine(): Engine | null;
  options(): { language: string; context: string };
  /** The finished recording (added to the file queue). */
  saveRecording(file: File): void;
}

export class LiveSession {
  status = $state<LiveStatus>('idle');
  error = $state<LiveError | null>(null);
  /** 0..1, smoothed peak level (dB scale, -60..0 dBFS). */
  level = $state(0);
  elapsedSec = $state(0);
  utterances = $state<LiveUtterance[]>([]);
  recording = $state<LiveRecording | null>(null);
  /** An engine pass is running or waiting. */
  decoding = $state(false);

  readonly #host: LiveHost;
  #stream: MediaStream | null = null;
  #ctx: AudioContext | null = null;
  #node: AudioWorkletNode | null = null;
  #vad: LiveVad | null = null;
  #resampler: Resampler | null = null;
  #store = new PcmStore();
  #segmenter = new UtteranceSegmenter();
  #vadChain: Promise<void> = Promise.resolve();
  #nextId = 1;
  /** Open utterance id and the sample it starts at. */
  #open: { id: number; start: number } | null = null;
  #openSettler: PartialSettler | null = null;
  /** Samples of the open utterance at its last partial pass. */
  #partialAt = 0;
  #bounds = new Map<number, { start: number; end: number }>();
  readonly #passes = new PassScheduler(
    (job, signal) => this.#run(job, signal),
    () => this.#duePartial(),
    (busy) => (this.decoding = busy),
  );
  #startedAt = new Date();
  #session = 0;

  constructor(host: LiveHost) {
    this.#host = host;
  }

  get active(): boolean {
    return this.status !== 'idle';
  }

  /** The mic is on or passes are still being decoded: the engine is in use. */
  get busy(): boolean {
    return this.status !== 'idle' || this.decoding;
  }

  async start(): Promise<void> {
    if (this.status !== 'idle') return;
    if (!this.#host.engine()) {
      this.error = { key: 'live.error.noModel' };
      return;
    }
    this.status = 'starting';
    this.error = null;
    this.#session++;
    if (this.recording) URL.revokeObjectURL(this.recording.url);
    this.recording = null;
    this.utterances = [];
    this.level = 0;
    this.elapsedSec = 0;
    this.#store = new PcmStore();
    this.#segmenter = new UtteranceSegmenter();
    this.#open = null;
    this.#bounds.clear();
    this.#startedAt = new Date();
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error('no mediaDevices'), { name: 'NotSupportedError' });
      this.#vad = new LiveVad();
      const vadReady = this.#vad.init().then(() => this.#vad?.reset());
      this.#stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      });
      const ctx = new AudioContext();
      this.#ctx = ctx;
      await ctx.audioWorklet.addModule(workletUrl);
      await vadReady;
      this.#resampler = new Resampler(ctx.sampleRate, LIVE_RATE);
      const source = ctx.createMediaStreamSource(this.#stream);
      const node = new AudioWorkletNode(ctx, 'live-recorder', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      const mute = ctx.createGain();
      mute.gain.value = 0;
      source.connect(node).connect(mute).connect(ctx.destination);
      node.port.onmessage = (ev: MessageEvent) => {
        const d = ev.data as { type: string; samples?: Float32Array; peak?: number };
        if (d.type === 'audio' && d.samples) this.#onAudio(d.samples, d.peak ?? 0);
      };
      this.#node = node;
      for (const track of this.#stream.getAudioTracks()) {
        track.addEventListener('ended', () => {
          if (this.status === 'recording') {
            this.error = { key: 'live.error.ended' };
            void this.stop();
          }
        });
      }
      if (ctx.state !== 'running') await ctx.resume();
      this.status = 'recording';
    } catch (e) {
      this.error = micError(e);
      await this.#teardown();
      this.status = 'idle';
    }
  }

  async stop(): Promise<void> {
    if (this.status !== 'recording') return;
    this.status = 'stopping';
    const node = this.#node;
    if (node) {
      // Collect what the worklet still holds.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        node.port.addEventListener('message', (ev: MessageEvent) => {
          if ((ev.data as { type?: string }).type === 'flushed') {
            clearTimeout(timer);
            resolve();
          }
        });
        node.port.postMessage('stop');
      });
    }
    const tail = this.#resampler?.flush();
    if (tail && tail.length) this.#appendPcm(tail);
    await this.#vadChain;
    this.#onEvents(this.#segmenter.finish(this.#store.length));
    await this.#teardown();
    this.level = 0;

    const total = this.#store.length;
    this.elapsedSec = total / LIVE_RATE;
    if (total > 0) {
      const wav = encodeWav(this.#store.views(), LIVE_RATE, 1);
      const name = recordingName(this.#startedAt);
      const file = new File([wav], name, { type: 'audio/wav' });
      this.recording = { url: URL.createObjectURL(file), name, bytes: wav.byteLength, durationSec: total / LIVE_RATE };
      this.#host.saveRecording(file);
    }
    this.status = 'idle';
    this.#passes.poke();
  }

  /** Forget the last session's transcript and recording link (not the queued file). */
  clear(): void {
    if (this.busy) return;
    if (this.recording) URL.revokeObjectURL(this.recording.url);
    this.recording = null;
    this.utterances = [];
    this.elapsedSec = 0;
    this.error = null;
  }

  async #teardown(): Promise<void> {
    this.#node?.port.close();
    this.#node?.disconnect();
    this.#node = null;
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#stream = null;
    const ctx = this.#ctx;
    this.#ctx = null;
    if (ctx && ctx.state !== 'closed') await ctx.close().catch(() => {});
    this.#vad?.dispose();
    this.#vad = null;
    this.#resampler = null;
  }

  #onAudio(samples: Float32Array, peak: number): void {
    if (this.status !== 'recording' && this.status !== 'stopping') return;
    const db = peak > 0 ? 20 * Math.log10(peak) : -100;
    const target = Math.min(1, Math.max(0, (db + 60) / 60));
    // Fast attack, slow release.
    this.level = target > this.level ? target : this.level * 0.85 + target * 0.15;
    const pcm = this.#resampler?.process(samples);
    if (pcm && pcm.length) this.#appendPcm(pcm);
  }

  #appendPcm(pcm: Float32Array): void {
    this.#store.append(pcm);
    this.elapsedSec = this.#store.length / LIVE_RATE;
    const vad = this.#vad;
    if (!vad) return;
    const session = this.#session;
    const probs = vad.push(pcm);
    this.#vadChain = this.#vadChain.then(async () => {
      try {
        const p = await probs;
        if (session !== this.#session) return;
        this.#onEvents(this.#segmenter.push(p));
        this.#passes.poke();
      } catch (e) {
        if (session !== this.#session || this.error) return;
        this.error = { key: 'live.error.vad', detail: messageOf(e) };
        if (this.status === 'recording') void this.stop();
      }
    });
  }

  #onEvents(events: SegmentEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'start') {
        const id = this.#nextId++;
        this.#open = { id, start: ev.start };
        this.#openSettler = new PartialSettler();
        this.#partialAt = 0;
        this.utterances.push({ id, start: ev.start / LIVE_RATE, end: null, state: 'speaking', settled: '', tail: '', error: '', partials: 0 });
      } else {
        const open = this.#open;
        if (!open) continue;
        this.#open = null;
        this.#openSettler = null;
        this.#bounds.set(open.id, { start: ev.start, end: ev.end });
        const u = this.#find(open.id);
        if (u) {
          u.end = ev.end / LIVE_RATE;
          u.state = 'queued';
        }
        this.#passes.final(open.id);
      }
    }
  }

  #find(id: number): LiveUtterance | undefined {
    return this.utterances.find((u) => u.id === id);
  }

  /** The partial pass due for the utterance being spoken, if any. */
  #duePartial(): PassJob | null {
    const open = this.#open;
    if (!open || this.status !== 'recording') return null;
    const len = this.#store.length - open.start;
    if (len >= PARTIAL_MIN_SEC * LIVE_RATE && len - this.#partialAt >= PARTIAL_EVERY_SEC * LIVE_RATE) return { id: open.id, final: false };
    return null;
  }

  async #run(job: PassJob, signal: AbortSignal): Promise<void> {
    const u = this.#find(job.id);
    const engine = this.#host.engine();
    let pcm: Float32Array;
    if (job.final) {
      const b = this.#bounds.get(job.id);
      if (!b || !u) return;
      pcm = this.#store.slice(b.start, b.end);
      this.#bounds.delete(job.id);
    } else {
      const open = this.#open;
      if (!open || open.id !== job.id) return;
      pcm = this.#store.slice(open.start, this.#store.length);
      this.#partialAt = pcm.length;
      if (u) u.partials++;
    }
    if (!u) return;
    if (!engine) {
      if (job.final) {
        u.state = 'error';
        u.error = 'no-model';
      }
      return;
    }
    if (job.final) u.state = 'decoding';
    const settler = job.final ? null : this.#openSettler;
    const { language, context } = this.#host.options();
    try {
      const r = await engine.transcribe(pcm, { language, context, maxNewTokens: MAX_NEW_TOKENS, signal });
      const text = r.text.trim();
      if (job.final) {
        u.settled = text;
        u.tail = '';
        u.state = 'done';
      } else if (settler && u.state === 'speaking' && settler === this.#openSettler) {
        const p = settler.update(text);
        u.settled = p.settled;
        u.tail = p.tail;
      }
    } catch (e) {
      if (!job.final) return; // an aborted or failed partial is simply dropped
      u.state = 'error';
      u.error = messageOf(e);
    }
  }
}

function messageOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return String(e);
}

/** A getUserMedia / audio failure in words a person can act on. */
function micError(e: unknown): LiveError {
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name ?? '') : '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return { key: 'live.error.denied' };
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return { key: 'live.error.noDevice' };
  if (name === 'NotReadableError' || name === 'TrackStartError') return { key: 'live.error.busy' };
  if (name === 'NotSupportedError') return { key: 'live.error.unsupported' };
  return { key: 'live.error.start', detail: messageOf(e) };
}
