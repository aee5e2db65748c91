// Every live connection, and which one currently holds each account. A second login for the
// same device replaces the first, which is told so with `<conflict type="replaced"/>` (440),
// as the real server does.
import type { TrafficKind } from '../faults/faults.js';
import type { Connection, ConnectionState } from './connection.js';

export class SessionRegistry {
  private readonly all = new Map<string, Connection>();
  private readonly byAccount = new Map<string, Connection>();
  private nextId = 1;

  newId(): string {
    return `c${this.nextId++}`;
  }

  add(conn: Connection): void {
    this.all.set(conn.id, conn);
  }

  /** Binds a logged-in connection to its account; returns the connection it replaced. */
  bind(phone: string, conn: Connection): Connection | undefined {
    const previous = this.byAccount.get(phone);
    this.byAccount.set(phone, conn);
    return previous === conn ? undefined : previous;
  }

  remove(conn: Connection): void {
    this.all.delete(conn.id);
    if (conn.account && this.byAccount.get(conn.account.phone) === conn) this.byAccount.delete(conn.account.phone);
  }

  forAccount(phone: string): Connection | undefined {
    return this.byAccount.get(phone);
  }

  get(id: string): Connection | undefined {
    return this.all.get(id);
  }

  list(): Connection[] {
    return [...this.all.values()];
  }

  /** Connections an action for `account` (or everyone, when undefined) applies to. */
  targets(account: string | undefined): Connection[] {
    if (account === undefined) return this.list().filter((c) => c.state !== 'closed');
    const conn = this.byAccount.get(account);
    return conn ? [conn] : [];
  }

  get size(): number {
    return this.all.size;
  }
}

export interface SessionInfo {
  connectionId: string;
  account: string | undefined;
  state: ConnectionState;
  remote: string;
  connectedAt: number;
  lastTrafficAt: number;
  lastTrafficKind: TrafficKind | undefined;
  trafficCounts: Partial<Record<TrafficKind, number>>;
  pendingInbound: number;
  /** While pairing: showing QR refs, or waiting for a pairing code to be entered. */
  pairing?: 'qr' | 'code';
}

/** What the control API (`GET /sessions`) shows of a connection. */
export function describeSession(conn: Connection): SessionInfo {
  return {
    connectionId: conn.id,
    account: conn.account?.phone,
    state: conn.state,
    remote: conn.remote,
    connectedAt: conn.connectedAt,
    lastTrafficAt: conn.lastTrafficAt,
    lastTrafficKind: conn.lastTrafficKind,
    trafficCounts: { ...conn.trafficCounts },
    pendingInbound: conn.pendingInbound.size,
    ...(conn.pairing ? { pairing: conn.pairing.linkCode ? ('code' as const) : ('qr' as const) } : {}),
  };
}
