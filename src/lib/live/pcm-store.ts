/** The live recording: 16 kHz samples in fixed blocks (no big copies as it grows; only memory limits it). */
const BLOCK = 16000 * 10;

export class PcmStore {
  #blocks: Float32Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(pcm: Float32Array): void {
    let at = 0;
    while (at < pcm.length) {
      const inBlock = this.#length % BLOCK;
      if (inBlock === 0) this.#blocks.push(new Float32Array(BLOCK));
      const n = Math.min(BLOCK - inBlock, pcm.length - at);
      this.#blocks[this.#blocks.length - 1].set(pcm.subarray(at, at + n), inBlock);
      at += n;
      this.#length += n;
    }
  }

  /** A copy of samples [start, end) (clipped to what was recorded). */
  slice(start: number, end: number): Float32Array {
    const a = Math.max(0, Math.min(start, this.#length));
    const b = Math.max(a, Math.min(end, this.#length));
    const out = new Float32Array(b - a);
    for (let i = a; i < b; ) {
      const block = Math.floor(i / BLOCK);
      const off = i % BLOCK;
      const n = Math.min(BLOCK - off, b - i);
      out.set(this.#blocks[block].subarray(off, off + n), i - a);
      i += n;
    }
    return out;
  }

  /** The whole recording as views (the last block trimmed), e.g. for the WAV writer. */
  views(): Float32Array[] {
    return this.#blocks.map((b, i) => (i === this.#blocks.length - 1 ? b.subarray(0, this.#length - i * BLOCK) : b));
  }
}
