/**
 * The status part of the one view: what the account is doing, as `status`, the
 * inspector and `/metrics` show it. Apart from projection.ts because it is evolved from
 * the runtime's facts as they are accepted (live), while the rest of the view follows
 * what JetStream stored. A pure fold: no NATS, no clock.
 */
import { MAX_DISCONNECTS, type AccountState, type WaEvent } from '../contract/index.js';

export type DisconnectRecord = { at: string; statusCode?: number; reason?: string; cause?: string };

export type KeepaliveStats = { lastRttMs: number | null; lastAt: string | null; timeouts: number };

/**
 * What the account is doing: the one copy `status`, the inspector and `/metrics` read.
 * Evolved from the runtime's facts as the publisher accepts them (stamped with their
 * `at`, before NATS has them), so it is live while NATS is slow or away; on takeover it
 * starts from the account's history in the stream.
 */
export type AccountStatus = {
  /** `null` until a transition is known (from the stream, or the runtime adding the account). */
  state: AccountState | null;
  since: string | null;
  /** Most recent first. */
  lastDisconnects: DisconnectRecord[];
  keepalive: KeepaliveStats;
  /** The QR to scan while the account is pairing. */
  qr: string | null;
  /** The gateway process writing the account (`owner.*` events), null when none holds it or leases are off. */
  owner: OwnerStatus | null;
};

export type OwnerStatus = { writer: string; host: string; pid: number; since: string };

export function emptyStatus(): AccountStatus {
  return {
    state: null,
    since: null,
    lastDisconnects: [],
    keepalive: { lastRttMs: null, lastAt: null, timeouts: 0 },
    qr: null,
    owner: null,
  };
}

/** The account's status after one more event. Pure: returns a new status, leaves the old one as it was. */
export function evolveStatus(status: AccountStatus, event: WaEvent): AccountStatus {
  switch (event.type) {
    case 'transition': {
      const next: AccountStatus = { ...status, state: event.to, since: event.at };
      // A QR is only worth showing while pairing: WhatsApp rotates it, and it is void after.
      if (event.to !== 'pairing') next.qr = null;
      // A closed socket is what an operator means by "disconnect"; the code says why.
      if (event.event === 'SocketClosed') {
        const d: DisconnectRecord = { at: event.at };
        if (event.statusCode !== undefined) d.statusCode = event.statusCode;
        if (event.reason !== undefined) d.reason = event.reason;
        if (event.cause !== undefined) d.cause = event.cause;
        next.lastDisconnects = [d, ...status.lastDisconnects].slice(0, MAX_DISCONNECTS);
      }
      return next;
    }
    case 'keepalive': {
      const k = status.keepalive;
      return {
        ...status,
        keepalive: {
          lastAt: event.at,
          lastRttMs: event.outcome === 'ok' && event.rttMs !== undefined ? event.rttMs : k.lastRttMs,
          timeouts: k.timeouts + (event.outcome === 'timeout' ? 1 : 0),
        },
      };
    }
    case 'qr':
      return { ...status, qr: event.qr };
    case 'paired':
    case 'logged_out':
      return { ...status, qr: null };
    case 'owner.acquired':
      return { ...status, owner: { writer: event.writer, host: event.host, pid: event.pid, since: event.at } };
    case 'owner.released':
    case 'owner.lost':
      return status.owner?.writer === event.writer ? { ...status, owner: null } : status;
    case 'send.queued':
    case 'send.sent':
    case 'send.acked':
    case 'send.failed':
    case 'send.expired':
    case 'send.uploaded':
    case 'message.in':
    case 'message.reaction':
    case 'message.edited':
    case 'message.deleted':
    case 'receipt':
    case 'group.participants':
    case 'message.undecryptable':
    case 'account.banned':
    case 'drop.pattern':
    case 'webhook.dead_lettered':
      return status;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
