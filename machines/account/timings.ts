/**
 * Every timing the account machine uses, with why it has its value. The runtime may
 * override any of them per account (config); tests shrink them.
 */
export interface AccountTimings {
  /** open → idle: the keepalive is due after this long (see `inboundResetsIdle`). */
  idleAfterMs: number;
  /** idle → pinging: a random delay up to this so many accounts never probe in lockstep. */
  probeJitterMs: number;
  /** pinging: no reply within this → the link is dead (half-open). */
  pingTimeoutMs: number;
  /** connecting: no login within this → give the attempt up and back off. */
  connectTimeoutMs: number;
  /** draining: wait this long for in-flight acks and for the socket to close. */
  drainTimeoutMs: number;
  /** online: the oldest send in flight not acked within this → the link is dead; resend from it. */
  ackTimeoutMs: number;
  /** First backoff ceiling; full jitter picks in [0, ceiling). */
  backoffBaseMs: number;
  /** Backoff ceiling never grows past this. */
  backoffCapMs: number;
  /** An open period at least this long resets the backoff attempt counter. */
  stableAfterMs: number;
  /** A probe deadline that passed while the event loop stalled this long gets one more probe. */
  stallThresholdMs: number;
  /** How many extra probes a stall may earn before the link is declared dead anyway. */
  maxStallRetries: number;
}

export const DEFAULT_TIMINGS: AccountTimings = {
  // WhatsApp's session idle timer was seen at ~15–16 min (field report); Baileys and
  // whatsmeow ping every 20–30 s. 5 s + 0.5 s jitter + 4 s timeout keeps a blackholed
  // link's detection under 10 s (issue 19: open again p90 ≤ 10 s; plain Baileys takes
  // 35–65 s), at one small IQ per account every ~5 s on a quiet link.
  idleAfterMs: 5_000,
  probeJitterMs: 500,
  // whatsmeow waits 10 s for a ping reply; loopback and mobile links answer in < 1 s,
  // so 4 s leaves 4× margin, and a deadline missed during an event-loop stall earns
  // one more probe (stallThresholdMs) instead of a reconnect.
  pingTimeoutMs: 4_000,
  // Baileys' own connectTimeoutMs default is 20 s; ours is the outer bound.
  connectTimeoutMs: 20_000,
  // A server ack normally follows a send in < 100 ms; 2 s bounds a planned recycle.
  drainTimeoutMs: 2_000,
  // An ack follows a send in < 100 ms, but the oldest send may first wait for a new
  // chat's device lookup and prekey fetch (IQ round trips, each with its own answer);
  // 10 s is twice the ping deadline yet keeps a lost send from waiting for a reconnect
  // that a live link never has (issue 11: 150 s in flight with the keepalive passing).
  ackTimeoutMs: 10_000,
  // The first retry after a transient drop (408/428) should be near-immediate.
  backoffBaseMs: 250,
  // A minute between attempts is the slowest a gateway operator tolerates.
  backoffCapMs: 60_000,
  // Half a minute of open link means the previous failures are over.
  stableAfterMs: 30_000,
  // Field stalls were 97–100 s; anything past a second means timers fired late.
  stallThresholdMs: 1_000,
  // One missed ping is not a dead link (whatsmeow); after a stall, probe once more.
  maxStallRetries: 1,
};
