/**
 * Recognises a metronomic drop pattern: sessions the server ends after the same time,
 * again and again (the field report: every 15–17 min for 17 hours). No peer gateway
 * reports it; an operator seeing it knows to look for a server-side timer, and the
 * runtime can recycle the session just before the predicted drop instead of being cut
 * off mid-send. Session lifetimes (open → server drop) are measured rather than
 * drop-to-drop times, so our own reconnect delays do not blur the server's timer.
 */
import type { Clock } from './clock.js';

/** Sessions looked at: enough to see a rhythm, recent enough to follow a change. */
export const PATTERN_WINDOW = 6;
/** Sessions needed before calling anything a pattern. */
export const MIN_SESSIONS = 3;
/** Coefficient of variation above which the lifetimes are not one timer. */
export const MAX_VARIATION = 0.15;

export interface DropPattern {
  periodMs: number;
  /** 1 for identical lifetimes, falling to 0 at MAX_VARIATION. */
  confidence: number;
  samples: number;
}

/** `lifetimes`: how long each server-ended session lasted (ms), oldest first. Pure. */
export function detectDropPattern(lifetimes: readonly number[]): DropPattern | null {
  const recent = lifetimes.slice(-PATTERN_WINDOW);
  if (recent.length < MIN_SESSIONS || recent.some((d) => d <= 0)) return null;
  const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
  const variance = recent.reduce((a, d) => a + (d - mean) ** 2, 0) / recent.length;
  const variation = Math.sqrt(variance) / mean;
  if (variation > MAX_VARIATION) return null;
  return {
    periodMs: Math.round(mean),
    confidence: Number((1 - variation / MAX_VARIATION).toFixed(3)),
    samples: recent.length,
  };
}

/** Confidence from which the runtime acts on a pattern (recycles ahead of the drop). */
export const ACT_ON_CONFIDENCE = 0.5;
/** Recycle this share of a period before the predicted drop (at least MIN_LEAD_MS). */
export const LEAD_SHARE = 0.05;
export const MIN_LEAD_MS = 50;

/** When to recycle a session opened at `openedAt` to get ahead of its drop; null if too late or unsure. */
export function recycleAt(pattern: DropPattern, openedAt: number, now: number): number | null {
  if (pattern.confidence < ACT_ON_CONFIDENCE) return null;
  const lead = Math.max(MIN_LEAD_MS, pattern.periodMs * LEAD_SHARE);
  const at = openedAt + pattern.periodMs - lead;
  return at > now ? at : null;
}

/** A pattern whose period moved by more than this share is published again. */
const PATTERN_CHANGE = 0.1;

export interface DropDefenceOptions {
  clock: Clock;
  /** A new or changed pattern: publish it. */
  report(pattern: DropPattern): void;
  /** Recycle the session now (the runtime checks the link is healthy). */
  recycle(): void;
  /** Act on patterns (recycle ahead), or only report them. */
  enabled: boolean;
}

/**
 * Per account: measures session lifetimes, reports a metronomic pattern, and asks for a
 * recycle just before each predicted drop. The new session's open plans the next one.
 */
export class DropDefence {
  private readonly lifetimes: number[] = [];
  private openedAt: number | null = null;
  private pattern: DropPattern | null = null;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly opts: DropDefenceOptions) {}

  sessionOpened(): void {
    this.openedAt = this.opts.clock.now();
    if (this.pattern && this.opts.enabled) this.plan(this.pattern, this.openedAt);
  }

  /** The server ended the session (a close with a status code while it was up). */
  serverDropped(): void {
    this.cancel();
    if (this.openedAt === null) return;
    this.lifetimes.push(this.opts.clock.now() - this.openedAt);
    this.openedAt = null;
    if (this.lifetimes.length > PATTERN_WINDOW) this.lifetimes.shift();
    const pattern = detectDropPattern(this.lifetimes);
    if (!pattern) return;
    const changed =
      !this.pattern || Math.abs(pattern.periodMs - this.pattern.periodMs) > PATTERN_CHANGE * this.pattern.periodMs;
    this.pattern = pattern;
    if (changed) this.opts.report(pattern);
  }

  cancel(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private plan(pattern: DropPattern, openedAt: number): void {
    this.cancel();
    const at = recycleAt(pattern, openedAt, this.opts.clock.now());
    if (at === null) return;
    this.cancelTimer = this.opts.clock.after(at - this.opts.clock.now(), () => {
      this.cancelTimer = null;
      this.opts.recycle();
    });
  }
}
