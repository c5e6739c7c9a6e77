import { describe, expect, it } from 'vitest';
import { PassScheduler, type PassJob } from './pass-scheduler';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PassScheduler', () => {
  it('runs one pass at a time, finals in order before partials, and a final aborts a running partial', async () => {
    const log: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const gates: Record<string, ReturnType<typeof deferred>> = {};
    let partialDue: PassJob | null = { id: 1, final: false };
    const busy: boolean[] = [];
    const s = new PassScheduler(
      async (job, signal) => {
        const key = `${job.final ? 'final' : 'partial'}${job.id}`;
        log.push(`start ${key}`);
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        const gate = (gates[key] = deferred());
        signal.addEventListener('abort', () => {
          log.push(`abort ${key}`);
          gate.resolve();
        });
        await gate.promise;
        concurrent--;
      },
      () => {
        const p = partialDue;
        partialDue = null;
        return p;
      },
      (b) => busy.push(b),
    );
    s.poke();
    expect(s.current).toEqual({ id: 1, final: false });
    s.final(1);
    s.final(2);
    await tick();
    expect(log).toEqual(['start partial1', 'abort partial1', 'start final1']);
    partialDue = { id: 3, final: false };
    gates.final1.resolve();
    await tick();
    expect(log.at(-1)).toBe('start final2'); // the queued final before the due partial
    gates.final2.resolve();
    await tick();
    expect(log.at(-1)).toBe('start partial3');
    gates.partial3.resolve();
    await tick();
    expect(s.busy).toBe(false);
    expect(busy.at(-1)).toBe(false);
    expect(maxConcurrent).toBe(1);
  });
});
