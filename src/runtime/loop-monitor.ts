/**
 * Event-loop stall awareness, one per process. A blocked loop fires every timer late
 * and reads every socket late, so a keepalive deadline that passes during a stall says
 * nothing about the link (field: 97–100 s stalls dropped several accounts at once).
 *
 * Two measurements: `perf_hooks.monitorEventLoopDelay` for the metrics (percentiles of
 * loop delay), and a drift sampler — a short interval timer whose lateness is recorded
 * with its time — that answers "how long was the longest stall since t?". After a
 * stall, expired timers run in expiry order, so the sampler (due long before any
 * deadline) records the stall before a probe deadline asks about it.
 */
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';

/** Sampling period: short enough to see sub-second stalls, cheap enough for one per process. */
export const LOOP_SAMPLE_MS = 100;
/** How much stall history is kept: longer than any probe deadline. */
export const LOOP_HISTORY_MS = 10 * 60_000;

export interface LoopMonitor {
  /** Longest stall (ms beyond the sampling period) that ended after `sinceMs`. */
  maxStallSince(sinceMs: number): number;
  /** Event-loop delay percentiles in ms since the last reset (for /metrics). */
  delay(): { p50: number; p99: number; max: number };
  resetDelay(): void;
  stop(): void;
}

export function startLoopMonitor(now: () => number = Date.now): LoopMonitor {
  const histogram: ELDHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  // (endedAt, stallMs) pairs, oldest first; only stalls > 0 are kept.
  const stalls: Array<[number, number]> = [];
  let expected = now() + LOOP_SAMPLE_MS;
  const sampler = setInterval(() => {
    const t = now();
    const late = t - expected;
    expected = t + LOOP_SAMPLE_MS;
    if (late > LOOP_SAMPLE_MS) stalls.push([t, late]);
    while (stalls.length > 0 && stalls[0]![0] < t - LOOP_HISTORY_MS) stalls.shift();
  }, LOOP_SAMPLE_MS);
  // The sampler must not keep a finished process alive.
  sampler.unref();

  const ms = (ns: number) => ns / 1e6;
  return {
    maxStallSince: (sinceMs) => {
      let max = 0;
      for (const [at, stall] of stalls) if (at >= sinceMs && stall > max) max = stall;
      return max;
    },
    delay: () => ({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }),
    resetDelay: () => histogram.reset(),
    stop: () => {
      clearInterval(sampler);
      histogram.disable();
    },
  };
}
