import { describe, expect, it } from 'vitest';
import { detectDropPattern, MIN_SESSIONS, recycleAt } from '../../src/runtime/drop-pattern.js';

const MIN = 60_000;

describe('the drop pattern detector', () => {
  it('recognises the field report: sessions ended after 15–17 minutes', () => {
    const p = detectDropPattern([16, 15.5, 16.2, 15.8, 16.5].map((m) => m * MIN));
    expect(p).not.toBeNull();
    expect(p!.periodMs).toBeGreaterThan(15 * MIN);
    expect(p!.periodMs).toBeLessThan(17 * MIN);
    expect(p!.samples).toBe(5);
  });

  it(`needs ${MIN_SESSIONS} sessions before it calls anything a pattern`, () => {
    expect(detectDropPattern([16 * MIN, 16 * MIN])).toBeNull();
    expect(detectDropPattern([16 * MIN, 16 * MIN, 16 * MIN])).toMatchObject({ periodMs: 16 * MIN, confidence: 1 });
  });

  it('does not see a rhythm in random drops', () => {
    expect(detectDropPattern([2, 28, 1, 59, 110].map((m) => m * MIN))).toBeNull();
  });

  it('plans the recycle just before the predicted drop, never in the past', () => {
    const p = { periodMs: 16 * MIN, confidence: 1, samples: 5 };
    const at = recycleAt(p, 100 * MIN, 100 * MIN + 1_000)!;
    expect(at).toBeLessThan(116 * MIN);
    expect(at).toBeGreaterThan(115 * MIN);
    expect(recycleAt(p, 100 * MIN, 117 * MIN)).toBeNull();
    expect(recycleAt({ ...p, confidence: 0.2 }, 100 * MIN, 100 * MIN)).toBeNull();
  });
});
