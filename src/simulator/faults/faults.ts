// Fault conditions (persistent, per account or global) and fault actions (one-shot). The
// Baileys DisconnectReason each action produces is measured in test/simulator/faults.int.test.ts.

/** What a received stanza counts as, for the idle-timeout policy's `resetBy`. */
export const TRAFFIC_KINDS = [
  'message',
  'receipt',
  'ack',
  'presence',
  'iq',
  'ping',
  'notification',
  'ws-ping',
  'other',
] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

/** Drop the session with `<stream:error code>` after `afterMs` without traffic of `resetBy`
 * kinds (field report: every ~16 min, and pings did not count). */
export interface IdleTimeoutPolicy {
  afterMs: number;
  resetBy: TrafficKind[];
  code: number;
}

/** Drop every session every `everyMs` whatever the traffic (metronomic recycle). */
export interface RecyclePolicy {
  everyMs: number;
  code: number;
}

export interface ReceiptBehaviour {
  delivery: boolean;
  read: boolean;
  deliveryDelayMs: number;
  readDelayMs: number;
}

export interface FaultConditions {
  /** Half-open link: the socket stays open, nothing is answered, nothing is sent. */
  silence?: boolean;
  /** Delay before `<ack class=message>`. */
  ackLatencyMs?: number;
  /** Delay before answering a `w:p` ping. */
  pingLatencyMs?: number;
  /**
   * Answer message sends with an error ack (e.g. '479', '463', '500'). `to`: only sends
   * to this user (phone number or LID digits); `count`: only the next N, then the
   * condition clears itself.
   */
  rejectSends?: { error: string; to?: string | undefined; count?: number | undefined };
  /**
   * The next `count` inbound messages arrive with a corrupted ciphertext (the client
   * fails with "Bad MAC"); the copy re-sent for the client's retry receipt is intact.
   */
  undecryptableInbound?: { count: number };
  /** Refuse the account's media uploads with this HTTP status (e.g. 500, 507); Baileys then
   * fails the send with "Media upload failed on all hosts". */
  rejectUploads?: { status: number };
  /** Answer logins with `<failure reason>` (e.g. 401 logged out, 403 banned). */
  loginFailure?: { reason: number };
  idleTimeout?: IdleTimeoutPolicy;
  recycle?: RecyclePolicy;
  receipts?: ReceiptBehaviour;
}

export type FaultConditionKey = keyof FaultConditions;

export type FaultAction =
  | { type: 'stream-error'; code: number }
  | { type: 'conflict' }
  /** `<failure reason>`; a 402 (temporary ban) carries `expire` (seconds left) and `code`. */
  | { type: 'failure'; reason: number; expire?: number | undefined; code?: number | undefined }
  | { type: 'close' }
  | { type: 'destroy' }
  /** A blackholed link: the server stops reading and writing the TCP socket, so not even
   * a WebSocket close is answered (a client's close then hangs until its own timeout). */
  | { type: 'freeze' };

export const DEFAULT_RECEIPTS: ReceiptBehaviour = { delivery: true, read: false, deliveryDelayMs: 0, readDelayMs: 0 };

/** Conditions for everyone plus per-account overrides; an account's value wins. */
export class FaultBook {
  private global: FaultConditions = {};
  private readonly perAccount = new Map<string, FaultConditions>();

  set(account: string | undefined, conditions: FaultConditions): void {
    if (account === undefined) this.global = { ...this.global, ...conditions };
    else this.perAccount.set(account, { ...this.perAccount.get(account), ...conditions });
  }

  /** Clears the named conditions, or all of them, for an account or globally. */
  clear(account: string | undefined, keys?: FaultConditionKey[]): void {
    const current = account === undefined ? this.global : this.perAccount.get(account);
    if (!current) return;
    const next: FaultConditions = keys ? { ...current } : {};
    for (const k of keys ?? []) delete next[k];
    if (account === undefined) this.global = next;
    else if (Object.keys(next).length === 0) this.perAccount.delete(account);
    else this.perAccount.set(account, next);
  }

  /**
   * One use of a counted condition (`{ count }`): decremented where it is set (the
   * account's own, else the global one) and cleared at zero.
   */
  consume(account: string | undefined, key: 'rejectSends' | 'undecryptableInbound'): void {
    const own = account === undefined ? undefined : this.perAccount.get(account);
    const where = own?.[key] ? account : undefined;
    const current = this.effective(where)[key];
    if (current?.count === undefined) return;
    if (current.count <= 1) this.clear(where, [key]);
    else this.set(where, { [key]: { ...current, count: current.count - 1 } });
  }

  effective(account: string | undefined): FaultConditions {
    const own = account === undefined ? undefined : this.perAccount.get(account);
    return own ? { ...this.global, ...own } : this.global;
  }

  snapshot(): { global: FaultConditions; accounts: Record<string, FaultConditions> } {
    return { global: { ...this.global }, accounts: Object.fromEntries(this.perAccount) };
  }

  reset(): void {
    this.global = {};
    this.perAccount.clear();
  }
}
