/**
 * What the inspector page shows: per account the state, outbox depth and last
 * keepalive round-trip, read from the one status view (the projection), and a log of
 * the recent events this gateway stored. Pages subscribe with `watch` (server-sent
 * events); a page opened late starts from `snapshot()`.
 *
 * Message text and QR payloads are stripped from what pages get (the log shows the
 * text's length): the inspector is for watching links, not reading chats.
 */
import type { WebhookPanel } from '../webhooks/service.js';
import type { AccountState, WaEvent } from '../contract/index.js';
import type { Projection } from '../nats/projection.js';

/** Events kept per account for a page opened late: a few reconnect storms' worth. */
export const LOG_PER_ACCOUNT = 200;
/** How often pages get a status refresh (outbox depth settles when acks arrive). */
export const STATUS_REFRESH_MS = 1_000;

export type PublicEvent = Record<string, unknown> & { type: string; account: string; seq: number; at: string };

export interface AccountPanel {
  account: string;
  state: AccountState | null;
  outbox: number;
  lastRttMs: number | null;
  /** The writer id of the gateway process that owns the account (leases), null when none or leases are off. */
  owner: string | null;
  log: PublicEvent[];
}

export type HubMessage =
  | { kind: 'event'; event: PublicEvent; status: Omit<AccountPanel, 'log'> }
  | { kind: 'status'; status: Omit<AccountPanel, 'log'> }
  | { kind: 'nats'; connected: boolean }
  | { kind: 'webhooks'; endpoints: WebhookPanel[] };

/** The event without message text or QR payload. */
export function publicEvent(event: WaEvent): PublicEvent {
  const out: Record<string, unknown> = { ...event };
  if ('text' in event && typeof event.text === 'string') {
    delete out.text;
    out.textLength = event.text.length;
  }
  if ('qr' in out) delete out.qr;
  // Issue 13: a send's content and a received caption are message text; media keys are secrets.
  if ('content' in out) delete out.content;
  if ('caption' in out) delete out.caption;
  if ('location' in out) delete out.location;
  if ('contact' in out) delete out.contact;
  if (event.type === 'send.uploaded') delete out.media;
  else if ('media' in out && out.media && typeof out.media === 'object') {
    const { mediaKey: _key, ...media } = out.media as Record<string, unknown>;
    out.media = media;
  }
  return out as PublicEvent;
}

export class InspectorHub {
  readonly #logs = new Map<string, PublicEvent[]>();
  readonly #watchers = new Set<(m: HubMessage) => void>();
  readonly #lastStatus = new Map<string, string>();

  constructor(
    private readonly o: {
      projection: Projection;
      /** Accounts this gateway runs. */
      accounts: () => string[];
      natsConnected: () => boolean;
      /** The webhook endpoints' state (src/webhooks/service.ts); none when absent. */
      webhooks?: () => WebhookPanel[];
    },
  ) {}

  /** An event this gateway stored. */
  observe(event: WaEvent): void {
    const { account } = event;
    const log = this.#logs.get(account) ?? [];
    const pub = publicEvent(event);
    log.push(pub);
    if (log.length > LOG_PER_ACCOUNT) log.splice(0, log.length - LOG_PER_ACCOUNT);
    this.#logs.set(account, log);
    const status = this.status(account);
    this.#lastStatus.set(account, JSON.stringify(status));
    this.broadcast({ kind: 'event', event: pub, status });
  }

  /** The QR to show on the pairing page, while the account is pairing. */
  qr(account: string): string | null {
    return this.o.projection.status(account)?.qr ?? null;
  }

  status(account: string): Omit<AccountPanel, 'log'> {
    const view = this.o.projection.has(account) ? this.o.projection.view(account) : null;
    return {
      account,
      state: view?.state ?? null,
      outbox: view ? view.outbox.size : 0,
      lastRttMs: view?.keepalive.lastRttMs ?? null,
      owner: view?.owner?.writer ?? null,
    };
  }

  snapshot(): { nats: boolean; accounts: AccountPanel[]; webhooks: WebhookPanel[] } {
    const names = new Set([...this.o.accounts(), ...this.#logs.keys()]);
    return {
      nats: this.o.natsConnected(),
      webhooks: this.o.webhooks?.() ?? [],
      accounts: [...names]
        .sort()
        .map((account) => ({ ...this.status(account), log: [...(this.#logs.get(account) ?? [])] })),
    };
  }

  /**
   * Re-sends the status of accounts whose outbox depth or state changed without a
   * stored event (the status is live, ahead of the stream while NATS is slow or away),
   * and the NATS connection state. The composition root calls it every `STATUS_REFRESH_MS`.
   */
  refresh(): void {
    for (const account of this.o.accounts()) {
      const status = this.status(account);
      const s = JSON.stringify(status);
      if (this.#lastStatus.get(account) === s) continue;
      this.#lastStatus.set(account, s);
      this.broadcast({ kind: 'status', status });
    }
    const endpoints = this.o.webhooks?.() ?? [];
    const w = JSON.stringify(endpoints);
    if (w !== this.#webhooks) {
      this.#webhooks = w;
      this.broadcast({ kind: 'webhooks', endpoints });
    }
    const nats = this.o.natsConnected();
    if (nats !== this.#nats) {
      this.#nats = nats;
      this.broadcast({ kind: 'nats', connected: nats });
    }
  }
  #nats = true;
  #webhooks = '[]';

  watch(watcher: (m: HubMessage) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  private broadcast(m: HubMessage): void {
    for (const w of this.#watchers) w(m);
  }
}
