/**
 * One engine call at a time for live mode. Final passes (an utterance that ended) are queued in order
 * and always go first; a partial pass (re-decoding the utterance still being spoken) is asked for only
 * when no final waits, and a final arriving aborts a running partial (its result would be stale).
 */
export interface PassJob {
  id: number;
  final: boolean;
}

export class PassScheduler {
  #finals: PassJob[] = [];
  #running: { job: PassJob; abort: AbortController } | null = null;

  /**
   * @param run        does one pass; must settle (it is given an AbortSignal for partials)
   * @param nextPartial the partial pass due now, or null
   * @param onBusy     told whether a pass is running or waiting, whenever that may have changed
   */
  constructor(
    private readonly run: (job: PassJob, signal: AbortSignal) => Promise<void>,
    private readonly nextPartial: () => PassJob | null,
    private readonly onBusy: (busy: boolean) => void = () => {},
  ) {}

  get busy(): boolean {
    return this.#running !== null || this.#finals.length > 0;
  }

  /** The pass running now (tests, diagnostics). */
  get current(): PassJob | null {
    return this.#running?.job ?? null;
  }

  /** Queues the final pass of an utterance. */
  final(id: number): void {
    this.#finals.push({ id, final: true });
    if (this.#running && !this.#running.job.final) this.#running.abort.abort();
    this.poke();
  }

  /** Starts the next pass if the engine is free. */
  poke(): void {
    if (this.#running) return;
    const job = this.#finals.shift() ?? this.nextPartial();
    if (!job) {
      this.onBusy(false);
      return;
    }
    const abort = new AbortController();
    this.#running = { job, abort };
    this.onBusy(true);
    void this.run(job, abort.signal)
      .catch(() => {})
      .finally(() => {
        this.#running = null;
        this.poke();
      });
  }
}
