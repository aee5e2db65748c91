/**
 * What the inspector page shows, kept from the published events: per account the
 * state, outbox depth, last keepalive round-trip and a log of recent events, plus the
 * latest QR while pairing. Pages subscribe with `watch` (server-sent events); a page
 * opened late starts from `snapshot()`.
 *
 * Message text and QR payloads are stripped from what pages get (the log shows the
 * text's length): the inspector is for watching links, not reading chats.
 */
import type { AccountState, WaEvent } from '../contract/index.js';
import type { Projection } from '../nats/projection.js';

/** Events kept per account for a page opened late: a few reconnect storms' worth. */
export const LOG_PER_ACCOUNT = 200;

export type PublicEvent = Record<string, unknown> & { type: string; account: string; seq: number; at: string };

export interface AccountPanel {
  account: string;
  state: AccountState | null;
  outbox: number;
  lastRttMs: number | null;
  log: PublicEvent[];
}

export type HubMessage = { kind: 'event'; event: PublicEvent; status: Omit<AccountPanel, 'log'> } | { kind: 'status'; status: Omit<AccountPanel, 'log'> } | { kind: 'nats'; connected: boolean };

/** The event without message text or QR payload. */
export function publicEvent(event: WaEvent): PublicEvent {
  const out: Record<string, unknown> = { ...event };
  if ('text' in event && typeof event.text === 'string') {
    delete out.text;
    out.textLength = event.text.length;
  }
  if ('qr' in out) delete out.qr;
  return out as PublicEvent;
}

export class InspectorHub {
  readonly #logs = new Map<string, PublicEvent[]>();
  readonly #states = new Map<string, AccountState>();
  readonly #rtts = new Map<string, number>();
  readonly #qrs = new Map<string, string>();
  readonly #watchers = new Set<(m: HubMessage) => void>();
  readonly #lastStatus = new Map<string, string>();

  constructor(
    private readonly o: {
      projection: Projection;
      /** Accounts this gateway runs, with the runtime's state (used until the stream has one). */
      accounts: () => { account: string; state: AccountState }[];
      natsConnected: () => boolean;
    },
  ) {}

  observe(event: WaEvent): void {
    const { account } = event;
    const log = this.#logs.get(account) ?? [];
    const pub = publicEvent(event);
    log.push(pub);
    if (log.length > LOG_PER_ACCOUNT) log.splice(0, log.length - LOG_PER_ACCOUNT);
    this.#logs.set(account, log);
    if (event.type === 'transition') {
      this.#states.set(account, event.to);
      if (event.to !== 'pairing') this.#qrs.delete(account);
    }
    if (event.type === 'keepalive' && event.outcome === 'ok' && event.rttMs !== undefined) this.#rtts.set(account, event.rttMs);
    if (event.type === 'qr') this.#qrs.set(account, event.qr);
    if (event.type === 'paired' || event.type === 'logged_out') this.#qrs.delete(account);
    const status = this.status(account);
    this.#lastStatus.set(account, JSON.stringify(status));
    this.broadcast({ kind: 'event', event: pub, status });
  }

  /** The QR to show on the pairing page, while the account is pairing. */
  qr(account: string): string | null {
    return this.#qrs.get(account) ?? null;
  }

  status(account: string): Omit<AccountPanel, 'log'> {
    const view = this.o.projection.has(account) ? this.o.projection.view(account) : null;
    const runtime = this.o.accounts().find((a) => a.account === account)?.state ?? null;
    return {
      account,
      state: this.#states.get(account) ?? view?.state ?? runtime,
      outbox: view ? view.outbox.size : 0,
      lastRttMs: this.#rtts.get(account) ?? view?.keepalive.lastRttMs ?? null,
    };
  }

  snapshot(): { nats: boolean; accounts: AccountPanel[] } {
    const names = new Set([...this.o.accounts().map((a) => a.account), ...this.#logs.keys()]);
    return {
      nats: this.o.natsConnected(),
      accounts: [...names].sort().map((account) => ({ ...this.status(account), log: [...(this.#logs.get(account) ?? [])] })),
    };
  }

  /**
   * Re-sends the status of accounts whose outbox depth or state changed without an
   * event (the projection applies an event when its ack arrives, which can trail the
   * event itself), and the NATS connection state.
   */
  refresh(): void {
    for (const { account } of this.o.accounts()) {
      const status = this.status(account);
      const s = JSON.stringify(status);
      if (this.#lastStatus.get(account) === s) continue;
      this.#lastStatus.set(account, s);
      this.broadcast({ kind: 'status', status });
    }
    const nats = this.o.natsConnected();
    if (nats !== this.#nats) {
      this.#nats = nats;
      this.broadcast({ kind: 'nats', connected: nats });
    }
  }
  #nats = true;

  watch(watcher: (m: HubMessage) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  private broadcast(m: HubMessage): void {
    for (const w of this.#watchers) w(m);
  }
}
