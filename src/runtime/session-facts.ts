/**
 * The account's session as facts: transitions become `paired` (a pairing ended in an
 * open link) and `logged_out`; server drops feed the drop defence (drop-pattern.ts);
 * and the credentials are cleared when the machine asks, one clear after another, so
 * the next socket opens only on what is left.
 */
import type { Logger } from 'pino';
import { isOnline, ONLINE_STATES, type AccountStateName, type TransitionRecord } from '../../machines/index.js';
import type { AccountAuth } from './account-runtime.js';
import type { Clock } from './clock.js';
import { DropDefence } from './drop-pattern.js';
import type { FactSink } from './port.js';

/** States a server-initiated close can interrupt: the drops a pattern is made of. */
const SERVER_DROP_FROM = new Set<AccountStateName>([...ONLINE_STATES, 'draining']);

export interface SessionFactsOptions {
  account: string;
  auth: AccountAuth;
  sink: FactSink;
  log: Logger;
  clock: Clock;
  /** Recycle the session just before a predicted drop when drops are metronomic. */
  recycleAheadOfDrops: boolean;
  /** The machine: its state now, and a planned reconnect. */
  state(): AccountStateName;
  recycle(reason: string): void;
}

export class SessionFacts {
  private readonly drops: DropDefence;
  private pairingSeen = false;
  private pendingClear: Promise<void> | null = null;

  constructor(private readonly o: SessionFactsOptions) {
    this.drops = new DropDefence({
      clock: o.clock,
      enabled: o.recycleAheadOfDrops,
      report: (pattern) => {
        o.log.warn(pattern, 'metronomic drop pattern: a server-side timer is ending the session');
        o.sink({ account: o.account, type: 'drop.pattern', ...pattern });
      },
      // Only a healthy link is recycled: anything else is already reconnecting.
      recycle: () => {
        if (isOnline(o.state())) o.recycle('dropPredicted');
      },
    });
  }

  /** Paired = WhatsApp signed our device identity (`account`, set by pair-success). */
  isPaired(): boolean {
    const { creds } = this.o.auth.state;
    return Boolean(creds.account && creds.me?.id);
  }

  transition(record: TransitionRecord): void {
    const { account, sink } = this.o;
    if (record.to === 'pairing') this.pairingSeen = true;
    if (record.to === 'open' && this.pairingSeen) {
      this.pairingSeen = false;
      const jid = this.o.auth.state.creds.me?.id;
      sink({ account, type: 'paired', ...(jid ? { jid } : {}) });
    }
    if (record.to === 'open' && (record.from === 'connecting' || record.from === 'pairing')) this.drops.sessionOpened();
    if (
      record.statusCode !== undefined &&
      SERVER_DROP_FROM.has(record.from) &&
      (record.to === 'reconnecting' || record.to === 'connecting')
    ) {
      this.drops.serverDropped();
    }
    if (record.to === 'stopped' || record.to === 'loggedOut') this.drops.cancel();
    if (record.to === 'loggedOut') {
      sink({
        account,
        type: 'logged_out',
        ...(record.statusCode !== undefined ? { statusCode: record.statusCode } : {}),
      });
    }
  }

  clearCredentials(): void {
    const previous = this.pendingClear ?? Promise.resolve();
    this.pendingClear = previous
      .then(() => this.o.auth.clear())
      .catch((err: unknown) => this.o.log.error({ err }, 'clearing credentials failed'))
      .finally(() => {
        this.pendingClear = null;
      });
  }

  /** Resolves once no clear of the credentials is under way. */
  async credentialsSettled(): Promise<void> {
    await this.pendingClear;
  }

  stop(): void {
    this.drops.cancel();
  }
}
