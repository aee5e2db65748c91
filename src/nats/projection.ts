/**
 * The one view of each account, evolved from events: `status`, the inspector page and
 * `/metrics` all read it, and nothing else keeps a copy. Pure folds, no NATS, no clock.
 * The same folds run when the stream is read at start and for every event afterwards,
 * so the rebuilt view and the live one cannot disagree (a test holds them equal).
 *
 * Per account:
 * - status: state and since when, recent disconnects, keepalive stats (the shape of
 *   `statusReplySchema`), the QR while pairing; live, from the runtime's facts (status-view.ts);
 * - outbox: `send.queued` minus `send.acked|failed|expired`, in queue order, each
 *   with the `waMessageId` of its `send.sent` if the stream has one;
 * - sends: the idempotency index, send id → seq of its `send.queued`, status and the
 *   fingerprint of its recipient and text (a reused id must name the same request). It
 *   remembers what the stream still holds, so the idempotency horizon of `send` is the
 *   stream's retention (`maxAgeMs`), documented in docs/subjects.md;
 * - lastSeq, livenessSeq: the per-account seqs the next writer continues from, one per
 *   retention class (records, liveness; docs/subjects.md, `seq`).
 * Outbox, sends and lastSeq follow what JetStream acked: a send exists once it is stored.
 */
import {
  retentionClass,
  type AccountState,
  type EventOf,
  type QueuedContent,
  requestFingerprint,
  type SendKind,
  type SendStatus,
  type UploadedMedia,
  type WaEvent,
  type WireError,
} from '../contract/index.js';
import { MessageIndex } from './message-index.js';
import { type AccountStatus, emptyStatus, evolveStatus } from './status-view.js';

export type QueuedSend = {
  id: string;
  /** Per-account seq of its `send.queued`. */
  seq: number;
  to: string;
  content: QueuedContent;
  deadline?: string;
  /** Present once a `send.sent` was recorded: the send went to WhatsApp at least once. */
  waMessageId?: string;
  /** A media send whose upload finished (`send.uploaded`): a replay does not upload again. */
  uploaded?: UploadedMedia;
};

export type SendRecord = {
  seq: number;
  status: SendStatus;
  /** `requestFingerprint` of the recipient and text it was queued with: a reused id must name the same request. */
  request: string;
  to: string;
  kind: SendKind;
  waMessageId?: string;
  error?: WireError;
};

/** The content a `send.queued` recorded (a plain text carries only `text`). */
export function queuedContentOf(event: EventOf<'send.queued'>): QueuedContent {
  return (event.content as QueuedContent | undefined) ?? { kind: 'text', text: event.text ?? '' };
}

/** The fingerprint a `send.queued` recorded, or the one a plain text always had. */
function fingerprintOf(event: EventOf<'send.queued'>): string {
  return event.fingerprint ?? requestFingerprint(event.to, event.text ?? '');
}

export type AccountView = AccountStatus & {
  account: string;
  /** The per-account seq of the last record the stream holds. */
  lastSeq: number;
  /** The per-account seq of the last liveness event (transition, keepalive, qr) the stream holds. */
  livenessSeq: number;
  outbox: Map<string, QueuedSend>;
  sends: Map<string, SendRecord>;
  /** Messages a reaction, edit, delete or reply may name (message-index.ts). */
  messages: MessageIndex;
};

export function emptyView(account: string): AccountView {
  return {
    account,
    lastSeq: 0,
    livenessSeq: 0,
    ...emptyStatus(),
    outbox: new Map(),
    sends: new Map(),
    messages: new MessageIndex(),
  };
}

/** The status fields of a view (a copy of the top level; the arrays and objects are shared, never mutated). */
function statusOf(view: AccountView): AccountStatus {
  return {
    state: view.state,
    since: view.since,
    lastDisconnects: view.lastDisconnects,
    keepalive: view.keepalive,
    qr: view.qr,
    owner: view.owner,
  };
}

/**
 * Folds one stored event into what the stream holds for the account: its last seq,
 * outbox and idempotency index. Returns false, changing nothing, for an event at or
 * below the view's seq of its stream: a repeat (an outside reader may see one when a
 * consumer redelivers) must not count twice. In place, unlike `evolveStatus`: the index
 * holds the stream's retention worth of sends, and copying it per event would be
 * quadratic. Records and liveness events have a seq each (src/contract/retention.ts).
 */
export function evolveStored(view: AccountView, event: WaEvent): boolean {
  const key = retentionClass(event.type) === 'records' ? 'lastSeq' : 'livenessSeq';
  if (event.seq <= view[key]) return false;
  view[key] = event.seq;
  switch (event.type) {
    case 'send.queued': {
      if (view.sends.has(event.id)) return true;
      const q: QueuedSend = { id: event.id, seq: event.seq, to: event.to, content: queuedContentOf(event) };
      if (event.deadline !== undefined) q.deadline = event.deadline;
      view.outbox.set(event.id, q);
      const request = fingerprintOf(event);
      view.sends.set(event.id, { seq: event.seq, status: 'queued', request, to: event.to, kind: event.kind });
      return true;
    }
    case 'send.uploaded': {
      const q = view.outbox.get(event.id);
      if (q) q.uploaded = event.media;
      return true;
    }
    case 'send.sent': {
      const rec = view.sends.get(event.id);
      if (rec && rec.status === 'queued') rec.status = 'sent';
      if (rec) {
        rec.waMessageId = event.waMessageId;
        view.messages.sent(event.waMessageId, rec.to, rec.kind);
      }
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
    case 'message.in':
      view.messages.received(event);
      return true;
    case 'transition':
    case 'keepalive':
    case 'message.reaction':
    case 'message.edited':
    case 'message.deleted':
    case 'receipt':
    case 'group.participants':
    case 'message.undecryptable':
    case 'account.banned':
    case 'qr':
    case 'paired':
    case 'logged_out':
    case 'drop.pattern':
    case 'webhook.dead_lettered':
    case 'owner.acquired':
    case 'owner.released':
    case 'owner.lost':
      return true;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * Folds one event of the account's history (a read of the stream) into the whole view:
 * what the stream holds and the status it implies. False for a repeat, as `evolveStored`.
 */
export function evolve(view: AccountView, event: WaEvent): boolean {
  if (!evolveStored(view, event)) return false;
  Object.assign(view, evolveStatus(statusOf(view), event));
  return true;
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

/**
 * Every account's view; one instance per gateway. Three inputs, each with its own part:
 * `live` (the runtime's facts as the publisher accepts them) evolves the status,
 * `stored` (events JetStream acked) what the stream holds, and `apply` (a read of the
 * stream's history, on takeover) both.
 */
export class Projection {
  readonly #views = new Map<string, AccountView>();

  /** A history event (read from the stream): both parts. */
  apply(event: WaEvent): boolean {
    return evolve(this.view(event.account), event);
  }

  /** An event the stream acked: the stream's part only (the status had it when it was accepted). */
  stored(event: WaEvent): boolean {
    return evolveStored(this.view(event.account), event);
  }

  /** A fact of the runtime, stamped as an event when the publisher accepted it (its seq is not final yet). */
  live(event: WaEvent): void {
    const view = this.view(event.account);
    Object.assign(view, evolveStatus(statusOf(view), event));
  }

  /**
   * The runtime starts running the account: its machine is in `state` from `at` on,
   * whatever the stream's history says a previous process left it in. The runtime
   * reports no transition into its initial state, so this is that fact.
   */
  started(account: string, state: AccountState, at: string): void {
    const view = this.view(account);
    Object.assign(view, { ...statusOf(view), state, since: at, qr: null });
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

  /** The account's status, if the projection knows the account. */
  status(account: string): AccountStatus | undefined {
    const v = this.#views.get(account);
    return v ? statusOf(v) : undefined;
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

  /** A message of the account the stream knows (sent by us or received), by WhatsApp message id. */
  message(account: string, waMessageId: string) {
    return this.#views.get(account)?.messages.get(waMessageId);
  }
}
