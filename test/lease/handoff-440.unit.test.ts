/** The 440 rule around a takeover (src/lease/handoff-440.ts), on an injected clock. */
import { describe, expect, it } from 'vitest';
import { HANDOFF_440_GRACE_MS, Handoff440 } from '../../src/lease/handoff-440.js';

describe('when an account stops on a 440', () => {
  it('reconnects once right after this process took it over (the old owner’s socket)', () => {
    const r = new Handoff440();
    r.acquired('a', 1_000);
    expect(r.onReplaced('a', 2_000)).toBe('reconnect');
    // A second 440 is not the old owner any more: the user's other client. No loop.
    expect(r.onReplaced('a', 2_500)).toBe('stop');
  });

  it('stays stopped past the grace period: the user logged in elsewhere', () => {
    const r = new Handoff440();
    r.acquired('a', 0);
    expect(r.onReplaced('a', HANDOFF_440_GRACE_MS + 1)).toBe('stop');
  });

  it('stays stopped for an account this process does not hold (lost, or never acquired)', () => {
    const r = new Handoff440();
    expect(r.onReplaced('a', 0)).toBe('stop');
    r.acquired('b', 0);
    r.gone('b');
    expect(r.onReplaced('b', 1)).toBe('stop');
  });

  it('gets one reconnect per acquisition', () => {
    const r = new Handoff440();
    r.acquired('a', 0);
    expect(r.onReplaced('a', 1)).toBe('reconnect');
    r.acquired('a', 100_000);
    expect(r.onReplaced('a', 100_001)).toBe('reconnect');
  });
});
