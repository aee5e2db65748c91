/**
 * Many accounts in one process. Accounts are added, started, stopped and removed at run
 * time; each has its own machine, socket, timer and credentials, and nothing one
 * account does (a crash in a handler, a ban, a 440) reaches another.
 */
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { AccountStateName } from '../../machines/index.js';
import { WaError } from '../contract/index.js';
import { AccountRuntime, type AccountAuth, type AccountSettings } from './account-runtime.js';
import type { Clock } from './clock.js';
import type { LoopMonitor } from './loop-monitor.js';
import type { AccountTimer } from './machine-timer.js';
import type { AccountOptions, AccountsPort, ChatPort, FactSink, MediaPort, OutgoingSend } from './port.js';

export interface GatewayOptions {
  sink: FactSink;
  logger: Logger;
  loop: LoopMonitor;
  /** `WA_MEDIA`: media sends' bytes and received media (absent: media sends fail, nothing is downloaded). */
  media?: MediaPort;
  /** Opens (and locks) the credentials of one account. */
  authFor(account: string): Promise<AccountAuth>;
  /** Settings every account starts from; per-account options override them. */
  defaults?: AccountSettings;
  /** WebSocket URL; undefined = WhatsApp's own. */
  waWebSocketUrl?: string;
  baileysLogger?: Logger;
  /** XState inspection hook for every account's actor (Stately inspector, tests). */
  inspect?: (account: string, event: InspectionEvent) => void;
  /** Every account's time (default: real time). */
  clock?: Clock;
  /** The machine timers and send deadlines of each account; on `clock` unless a test fires them. */
  timerFor?: (account: string) => AccountTimer;
}

export class Gateway implements AccountsPort {
  private readonly accounts = new Map<string, AccountRuntime>();
  /** Adds in progress, so two concurrent adds of one id cannot both open its credentials. */
  private readonly adding = new Map<string, Promise<void>>();

  constructor(private readonly opts: GatewayOptions) {}

  list(): { account: string; state: AccountStateName }[] {
    return [...this.accounts.values()].map((a) => ({ account: a.account, state: a.state() }));
  }

  has(account: string): boolean {
    return this.accounts.has(account);
  }

  state(account: string): AccountStateName {
    return this.get(account).state();
  }

  isPaired(account: string): boolean {
    return this.get(account).isPaired();
  }

  runtime(account: string): AccountRuntime {
    return this.get(account);
  }

  async add(account: string, options: AccountOptions & AccountSettings = {}): Promise<void> {
    if (this.accounts.has(account)) throw new WaError('bad_request', `account ${account} exists`);
    const pending = this.adding.get(account);
    if (pending) throw new WaError('bad_request', `account ${account} is being added`);
    const adding = this.create(account, options);
    this.adding.set(account, adding);
    try {
      await adding;
    } finally {
      this.adding.delete(account);
    }
  }

  private async create(account: string, options: AccountOptions & AccountSettings): Promise<void> {
    const auth = await this.opts.authFor(account);
    const { connect = true, ...settings } = options;
    const d = this.opts.defaults ?? {};
    const runtime = new AccountRuntime({
      ...d,
      ...settings,
      timings: { ...d.timings, ...settings.timings },
      account,
      auth,
      sink: this.opts.sink,
      logger: this.opts.logger.child({ account }),
      loop: this.opts.loop,
      ...(this.opts.media ? { mediaStore: this.opts.media } : {}),
      ...(this.opts.waWebSocketUrl ? { waWebSocketUrl: this.opts.waWebSocketUrl } : {}),
      ...(this.opts.baileysLogger ? { baileysLogger: this.opts.baileysLogger.child({ account }) } : {}),
      ...(this.opts.inspect ? { inspect: (event: InspectionEvent) => this.opts.inspect?.(account, event) } : {}),
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      ...(this.opts.timerFor ? { timer: this.opts.timerFor(account) } : {}),
    });
    this.accounts.set(account, runtime);
    runtime.start();
    if (connect) runtime.connect();
  }

  /** Stops the account (draining in-flight sends for up to `drainMs`, default 5 s; 0 closes at once) and forgets it. */
  async remove(account: string, drainMs?: number): Promise<void> {
    const runtime = this.get(account);
    this.accounts.delete(account);
    await runtime.stop(drainMs);
  }

  /** The outcome is for tests and benchmarks; the NATS layer learns it from the facts. */
  submit(account: string, send: OutgoingSend): 'dispatched' | 'held' | 'refused' {
    return this.get(account).submit(send);
  }

  connect(account: string): AccountStateName {
    return this.get(account).connect();
  }

  disconnect(account: string): AccountStateName {
    return this.get(account).disconnect();
  }

  logout(account: string): Promise<AccountStateName> {
    return this.get(account).logout();
  }

  chat(account: string): ChatPort {
    return this.get(account).chat;
  }

  pair(account: string, phone?: string): Promise<{ method: 'qr' | 'code'; code?: string }> {
    return this.get(account).pair(phone);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.accounts.keys()].map((a) =>
        this.remove(a).catch((err: unknown) => this.opts.logger.error({ err, account: a }, 'stopping account failed')),
      ),
    );
  }

  private get(account: string): AccountRuntime {
    const runtime = this.accounts.get(account);
    if (!runtime) throw new WaError('unknown_account', `no account ${account}`);
    return runtime;
  }
}
