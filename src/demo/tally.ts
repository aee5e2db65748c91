/**
 * The demo's bookkeeping, pure: what was sent, what the event stream says happened to
 * each account, and what the simulator's ledger (the "WhatsApp side") received. The
 * verdict — lost and duplicated — comes from the ledger, not from the gateway's own
 * account of itself.
 */
import { isOnline } from '../../machines/index.js';
import type { AccountState, WaEvent } from '../contract/index.js';

export type SentMessage = {
  account: string;
  id: string;
  text: string;
  at: number;
  /** A group send: how many participant devices must each get it once. */
  fanOut?: number;
};

/** What the simulator recorded for one message id (the ledger's shape, reduced). */
export type LedgerRow = {
  id: string;
  text: string | undefined;
  count: number;
  /** Group sends: participant device → times it read the message. */
  recipients?: Record<string, number>;
};

export type AccountTally = {
  account: string;
  keepalive: string;
  state: AccountState | 'unknown';
  /** Sessions the server cut (transition with the policy's status code). */
  serverDrops: number;
  /** Planned reconnects just ahead of a predicted drop (the server never got to cut those). */
  dropsPrevented: number;
  keepaliveOk: number;
  /** Sends recorded while the account was not open: held in the outbox. */
  held: number;
  /** Held sends that went out once the account was open again. */
  replayed: number;
  sent: number;
  /** Of `sent`, the sends to the account's group. */
  groupSent: number;
  acked: number;
  failed: number;
  expired: number;
  /** Accepted sends the ledger shows exactly once. */
  delivered: number;
  /** Accepted sends the ledger does not show (yet, while running; for good, at the end). */
  missing: number;
  /** Accepted sends the ledger shows as more than one message (different WhatsApp ids). */
  duplicated: number;
  /** The same WhatsApp message id arriving again after a reconnect: the recipient shows it once. */
  resentSameId: number;
};

export class Tally {
  private readonly accounts = new Map<
    string,
    {
      keepalive: string;
      dropCode: number;
      state: AccountState | 'unknown';
      serverDrops: number;
      prevented: number;
      keepaliveOk: number;
      held: Set<string>;
      replayed: Set<string>;
      acked: Set<string>;
      failed: Set<string>;
      expired: Set<string>;
      waIds: Map<string, string>;
    }
  >();
  private readonly sent = new Map<string, SentMessage>();
  /** Sends the gateway refused (the caller was told: not lost, but worth showing). */
  refused = 0;
  /** Accepted sends that were images (the rest are texts). */
  images = 0;
  /** `send.uploaded` events: one per image when a replay does not upload again. */
  uploads = 0;

  constructor(accounts: { account: string; keepalive: string }[], dropCode = 408) {
    for (const a of accounts) {
      this.accounts.set(a.account, {
        keepalive: a.keepalive,
        dropCode,
        state: 'unknown',
        serverDrops: 0,
        prevented: 0,
        keepaliveOk: 0,
        held: new Set(),
        replayed: new Set(),
        acked: new Set(),
        failed: new Set(),
        expired: new Set(),
        waIds: new Map(),
      });
    }
  }

  recordSent(m: SentMessage): void {
    this.sent.set(m.id, m);
  }

  state(account: string): AccountState | 'unknown' {
    return this.accounts.get(account)?.state ?? 'unknown';
  }

  sentCount(): number {
    return this.sent.size;
  }

  /** Events of one account in stream order. */
  apply(e: WaEvent): void {
    const a = this.accounts.get(e.account);
    if (!a) return;
    switch (e.type) {
      case 'transition':
        a.state = e.to;
        if (e.statusCode === a.dropCode && e.event === 'SocketClosed') a.serverDrops++;
        if (e.reason === 'dropPredicted' && e.to === 'draining') a.prevented++;
        break;
      case 'send.queued':
        // Outside `online` a send is held in the outbox.
        if (!isOnline(a.state)) a.held.add(e.id);
        break;
      case 'send.sent':
        a.waIds.set(e.id, e.waMessageId);
        if (a.held.has(e.id)) a.replayed.add(e.id);
        break;
      case 'send.acked':
        a.acked.add(e.id);
        break;
      case 'send.uploaded':
        this.uploads++;
        break;
      case 'send.failed':
        a.failed.add(e.id);
        break;
      case 'send.expired':
        a.expired.add(e.id);
        break;
      case 'keepalive':
        // With `off` nothing goes on the wire; the machine counts the probe as answered.
        if (e.outcome === 'ok' && a.keepalive !== 'off') a.keepaliveOk++;
        break;
      default:
        break;
    }
  }

  /** `ledger`: per account, every message the simulator recorded for it. */
  summary(ledger: ReadonlyMap<string, readonly LedgerRow[]>): {
    accounts: AccountTally[];
    sent: number;
    refused: number;
    images: number;
    uploads: number;
    lost: number;
    duplicated: number;
    held: number;
    replayed: number;
    pending: number;
  } {
    const accounts: AccountTally[] = [];
    for (const [account, a] of this.accounts) {
      const rows = ledger.get(account) ?? [];
      const byText = new Map<string, LedgerRow[]>();
      for (const r of rows) if (r.text !== undefined) byText.set(r.text, [...(byText.get(r.text) ?? []), r]);
      let sent = 0,
        groupSent = 0,
        delivered = 0,
        missing = 0,
        duplicated = 0,
        resentSameId = 0;
      for (const m of this.sent.values()) {
        if (m.account !== account) continue;
        sent++;
        if (m.fanOut !== undefined) groupSent++;
        const hits = byText.get(m.text) ?? [];
        // A group send counts as delivered only once every participant device has it.
        const reached = (h: LedgerRow) => m.fanOut === undefined || Object.keys(h.recipients ?? {}).length >= m.fanOut;
        if (hits.length === 0 || !hits.every(reached)) missing++;
        else if (hits.length > 1) duplicated++;
        else delivered++;
        if (hits.some((h) => h.count > 1)) resentSameId++;
      }
      accounts.push({
        account,
        keepalive: a.keepalive,
        state: a.state,
        serverDrops: a.serverDrops,
        dropsPrevented: a.prevented,
        keepaliveOk: a.keepaliveOk,
        held: a.held.size,
        replayed: a.replayed.size,
        sent,
        groupSent,
        acked: a.acked.size,
        failed: a.failed.size,
        expired: a.expired.size,
        delivered,
        missing,
        duplicated,
        resentSameId,
      });
    }
    const sum = (k: keyof AccountTally) => accounts.reduce((n, a) => n + (a[k] as number), 0);
    return {
      accounts,
      sent: this.sent.size,
      refused: this.refused,
      images: this.images,
      uploads: this.uploads,
      lost: sum('missing'),
      duplicated: sum('duplicated'),
      held: sum('held'),
      replayed: sum('replayed'),
      pending: sum('missing'),
    };
  }
}
