/**
 * 440 (connectionReplaced) right after a takeover (docs/scaling.md, "440 during a
 * handoff"). WhatsApp answers a second socket for the same device with 440 on the
 * *older* one. In a handoff the older one is the previous owner's, which stops (the
 * machine's policy for 440; its next publish is fenced anyway). But a previous owner
 * that stalled may reconnect before it notices it lost the lease, and then the *new*
 * owner gets the 440. Taking that for "the user logged in elsewhere" would leave the
 * account with no one running it, so: the first 440 within `HANDOFF_440_GRACE_MS` of an
 * acquisition reconnects once; any other 440 is the user's other client, and the account
 * stays stopped as the machine decided (reported as always). Never a loop: once per
 * acquisition. Pure, with the clock passed in.
 */

/** A 440 this soon after taking an account over is blamed on the old owner's socket: longer than a stalled owner's TTL wait plus a reconnect. */
export const HANDOFF_440_GRACE_MS = 15_000;

export class Handoff440 {
  readonly #acquiredAt = new Map<string, number>();
  readonly #retried = new Set<string>();

  constructor(private readonly graceMs = HANDOFF_440_GRACE_MS) {}

  acquired(account: string, now: number): void {
    this.#acquiredAt.set(account, now);
    this.#retried.delete(account);
  }

  gone(account: string): void {
    this.#acquiredAt.delete(account);
    this.#retried.delete(account);
  }

  /** The account stopped on a 440 at `now`: reconnect (the old owner's socket) or leave it stopped. */
  onReplaced(account: string, now: number): 'reconnect' | 'stop' {
    const since = this.#acquiredAt.get(account);
    if (since === undefined || now - since > this.graceMs || this.#retried.has(account)) return 'stop';
    this.#retried.add(account);
    return 'reconnect';
  }
}
