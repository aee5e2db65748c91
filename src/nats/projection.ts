/**
 * Projections of `WA_EVENTS`: what the stream says about each account. Pure: events
 * in, views out; no NATS, no clock. The same `apply` runs when the stream is read at
 * start and for every event the publisher gets acked afterwards, so the rebuilt view
 * and the live one cannot disagree (a test holds them equal).
 *
 * Per account:
 * - status: last state and since when, recent disconnects, keepalive stats (the shape
 *   of `statusReplySchema`);
 * - outbox: `send.queued` minus `send.acked|failed|expired`, in queue order, each
 *   with the `waMessageId` of its `send.sent` if the stream has one;
 * - sends: the idempotency index, send id → seq of its `send.queued`, status and the
 *   fingerprint of its recipient and text (a reused id must name the same request). It
 *   remembers what the stream still holds, so the idempotency horizon of `send` is the
 *   stream's retention (`maxAgeMs`), documented in docs/subjects.md;
 * - lastSeq: the per-account seq the next writer continues from.
 */
import { createHash } from 'node:crypto';
import { MAX_DISCONNECTS, type AccountState, type SendStatus, type WaEvent, type WireError } from '../contract/index.js';

export type QueuedSend = {
  id: string;
  /** Per-account seq of its `send.queued`. */
  seq: number;
  to: string;
  text: string;
  deadline?: string;
  /** Present once a `send.sent` was recorded: the send went to WhatsApp at least once. */
  waMessageId?: string;
};

export type SendRecord = {
  seq: number;
  status: SendStatus;
  /** `requestFingerprint` of the recipient and text it was queued with: a reused id must name the same request. */
  request: string;
  waMessageId?: string;
  error?: WireError;
};

/**
 * What makes two sends with one id the same request: the (normalised) recipient and the
 * text. A hash, so the index does not keep every text for the stream's retention; 128
 * bits make a false match between two different requests practically impossible.
 */
export function requestFingerprint(to: string, text: string): string {
  return createHash('sha256').update(to).update('\u0000').update(text).digest('base64url').slice(0, 22);
}

export type DisconnectRecord = { at: string; statusCode?: number; reason?: string; cause?: string };

export type AccountView = {
  account: string;
  lastSeq: number;
  /** `null` until the stream holds a transition for the account. */
  state: AccountState | null;
  since: string | null;
  /** Most recent first. */
  lastDisconnects: DisconnectRecord[];
  keepalive: { lastRttMs: number | null; lastAt: string | null; timeouts: number };
  outbox: Map<string, QueuedSend>;
  sends: Map<string, SendRecord>;
};

export function emptyView(account: string): AccountView {
  return {
    account,
    lastSeq: 0,
    state: null,
    since: null,
    lastDisconnects: [],
    keepalive: { lastRttMs: null, lastAt: null, timeouts: 0 },
    outbox: new Map(),
    sends: new Map(),
  };
}

/**
 * Folds one event into its account's view. Returns false, changing nothing, for an
 * event at or below the view's seq: a repeat (an outside reader may see one when a
 * consumer redelivers) must not count twice.
 */
export function evolve(view: AccountView, event: WaEvent): boolean {
  if (event.seq <= view.lastSeq) return false;
  view.lastSeq = event.seq;
  switch (event.type) {
    case 'transition':
      view.state = event.to;
      view.since = event.at;
      // A closed socket is what an operator means by "disconnect"; the code says why.
      if (event.event === 'SocketClosed') {
        const d: DisconnectRecord = { at: event.at };
        if (event.statusCode !== undefined) d.statusCode = event.statusCode;
        if (event.reason !== undefined) d.reason = event.reason;
        if (event.cause !== undefined) d.cause = event.cause;
        view.lastDisconnects = [d, ...view.lastDisconnects].slice(0, MAX_DISCONNECTS);
      }
      return true;
    case 'send.queued': {
      if (view.sends.has(event.id)) return true;
      const q: QueuedSend = { id: event.id, seq: event.seq, to: event.to, text: event.text };
      if (event.deadline !== undefined) q.deadline = event.deadline;
      view.outbox.set(event.id, q);
      view.sends.set(event.id, { seq: event.seq, status: 'queued', request: requestFingerprint(event.to, event.text) });
      return true;
    }
    case 'send.sent': {
      const rec = view.sends.get(event.id);
      if (rec && rec.status === 'queued') rec.status = 'sent';
      if (rec) rec.waMessageId = event.waMessageId;
      const q = view.outbox.get(event.id);
      if (q) q.waMessageId = event.waMessageId;
      return true;
    }
    case 'send.acked':
      settle(view, event.id, 'acked');
      return true;
    case 'send.failed':
      settle(view, event.id, 'failed', event.error);
      return true;
    case 'send.expired':
      settle(view, event.id, 'expired');
      return true;
    case 'keepalive':
      view.keepalive.lastAt = event.at;
      if (event.outcome === 'ok' && event.rttMs !== undefined) view.keepalive.lastRttMs = event.rttMs;
      if (event.outcome === 'timeout') view.keepalive.timeouts += 1;
      return true;
    case 'message.in':
    case 'qr':
    case 'paired':
    case 'logged_out':
    case 'drop.pattern':
      return true;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** The first settlement wins: a late `delivered` after `failed` does not revive a send. */
function settle(view: AccountView, id: string, status: 'acked' | 'failed' | 'expired', error?: WireError): void {
  view.outbox.delete(id);
  const rec = view.sends.get(id);
  if (!rec || rec.status === 'failed' || rec.status === 'expired') return;
  if (rec.status === 'acked' && status !== 'acked') return;
  rec.status = status;
  if (error) rec.error = error;
}

/** Every account's view; one instance per gateway, fed by the reader and the publisher. */
export class Projection {
  readonly #views = new Map<string, AccountView>();

  apply(event: WaEvent): boolean {
    return evolve(this.view(event.account), event);
  }

  /** The account's view, created empty on first use. */
  view(account: string): AccountView {
    let v = this.#views.get(account);
    if (!v) {
      v = emptyView(account);
      this.#views.set(account, v);
    }
    return v;
  }

  has(account: string): boolean {
    return this.#views.has(account);
  }

  /** Replaces an account's view (a takeover re-reads the account after fencing it). */
  replace(view: AccountView): void {
    this.#views.set(view.account, view);
  }

  accounts(): string[] {
    return [...this.#views.keys()];
  }

  lastSeq(account: string): number {
    return this.#views.get(account)?.lastSeq ?? 0;
  }

  /** Queued sends not yet settled, in the order they were queued. */
  outbox(account: string): QueuedSend[] {
    return [...(this.#views.get(account)?.outbox.values() ?? [])];
  }

  send(account: string, id: string): SendRecord | undefined {
    return this.#views.get(account)?.sends.get(id);
  }
}
