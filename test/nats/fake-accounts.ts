/**
 * An in-memory AccountsPort standing in for the account runtime (not for NATS): it
 * behaves like the runtime where the NATS layer can see it — sends are dispatched when
 * open, held otherwise and flushed in order on connect, refused when logged out,
 * expired at their deadline only while held — and reports the same facts through the sink.
 */
import type { AccountStateName } from '../../machines/index.js';
import { WaError } from '../../src/contract/index.js';
import type { AccountOptions, AccountsPort, ChatPort, Fact, FactSink, OutgoingSend } from '../../src/runtime/port.js';

type Account = { state: AccountStateName; held: OutgoingSend[] };

export type FakeOptions = {
  /** Report `send.acked` (server) right after `send.sent`. Default true. */
  autoAck?: boolean;
};

export class FakeAccounts implements AccountsPort {
  readonly accounts = new Map<string, Account>();
  /** Every submit, in call order. */
  readonly submits: { account: string; send: OutgoingSend; outcome: string }[] = [];
  /** Every send that went "to WhatsApp", with its message id. */
  readonly wire: { account: string; id: string; waMessageId: string }[] = [];
  sink: FactSink = () => undefined;
  /** Send deadlines armed (account\0id), each until it passes. */
  readonly deadlines = new Map<string, NodeJS.Timeout>();
  /** Accounts whose credentials hold no device identity (never paired). */
  readonly unpaired = new Set<string>();

  constructor(private readonly options: FakeOptions = {}) {}

  list() {
    return [...this.accounts].map(([account, a]) => ({ account, state: a.state }));
  }
  has(account: string) {
    return this.accounts.has(account);
  }
  state(account: string) {
    return this.get(account).state;
  }
  /** Chats need a live link: the fake has none (the e2e tests cover them). */
  chat(account: string): ChatPort {
    this.get(account);
    const down = () => Promise.reject(new WaError('unavailable', `account ${account} is not connected`));
    return { groups: down, read: async () => 'held', presence: down };
  }
  isPaired(account: string) {
    this.get(account);
    return !this.unpaired.has(account);
  }
  async add(account: string, options: AccountOptions = {}) {
    if (this.accounts.has(account)) throw new WaError('bad_request', `account ${account} exists`);
    this.accounts.set(account, { state: 'stopped', held: [] });
    if (options.connect ?? true) this.connect(account);
  }
  /** Adds without facts or connecting: an account the runtime already had at start. */
  preload(account: string, state: AccountStateName = 'stopped') {
    this.accounts.set(account, { state, held: [] });
  }
  async remove(account: string) {
    this.get(account);
    this.accounts.delete(account);
    for (const [key, t] of this.deadlines) {
      if (!key.startsWith(`${account}\u0000`)) continue;
      clearTimeout(t);
      this.deadlines.delete(key);
    }
  }
  submit(account: string, send: OutgoingSend) {
    const a = this.get(account);
    let outcome: 'dispatched' | 'held' | 'refused';
    if (a.state === 'loggedOut') {
      outcome = 'refused';
      this.emit({ account, type: 'send.failed', id: send.id, error: { code: 'logged_out', message: 'logged out' } });
    } else if (a.state === 'open') {
      outcome = 'dispatched';
      this.dispatch(account, send);
    } else {
      outcome = 'held';
      a.held.push(send);
    }
    this.submits.push({ account, send, outcome });
    if (send.deadline !== undefined && send.waMessageId === undefined && outcome !== 'refused')
      this.armDeadline(account, send.id, Date.parse(send.deadline));
    return outcome;
  }
  /** As the runtime: when the deadline passes, the send expires if it is still held. */
  private armDeadline(account: string, id: string, due: number) {
    const key = `${account}\u0000${id}`;
    const timer = setTimeout(
      () => {
        this.deadlines.delete(key);
        const a = this.accounts.get(account);
        const i = a?.held.findIndex((s) => s.id === id) ?? -1;
        if (!a || i < 0) return;
        a.held.splice(i, 1);
        this.emit({ account, type: 'send.expired', id });
      },
      Math.max(0, due - Date.now()),
    );
    timer.unref();
    this.deadlines.set(key, timer);
  }
  connect(account: string) {
    const a = this.get(account);
    if (a.state !== 'open') {
      this.move(account, 'connecting', 'Connect');
      this.move(account, 'open', 'SocketOpened');
      for (const s of a.held.splice(0)) this.dispatch(account, s);
    }
    return a.state;
  }
  disconnect(account: string) {
    if (this.get(account).state !== 'stopped') this.move(account, 'stopped', 'Disconnect');
    return this.get(account).state;
  }
  /** A dropped link, as the machine reports it (statusCode 408). */
  drop(account: string, statusCode = 408) {
    this.move(account, 'reconnecting', 'SocketClosed', statusCode);
  }
  async logout(account: string) {
    const a = this.get(account);
    this.move(account, 'loggedOut', 'Logout');
    for (const s of a.held.splice(0)) {
      this.emit({ account, type: 'send.failed', id: s.id, error: { code: 'logged_out', message: 'logged out' } });
    }
    this.emit({ account, type: 'logged_out' });
    return a.state;
  }
  async pair(account: string, phone?: string) {
    this.get(account);
    return phone ? { method: 'code' as const, code: 'ABCD-1234' } : { method: 'qr' as const };
  }

  private dispatch(account: string, send: OutgoingSend) {
    const waMessageId =
      send.waMessageId ?? `3EB0${account.toUpperCase()}${send.id.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 64);
    this.wire.push({ account, id: send.id, waMessageId });
    this.emit({ account, type: 'send.sent', id: send.id, waMessageId });
    if (this.options.autoAck ?? true) this.emit({ account, type: 'send.acked', id: send.id, ack: 'server' });
  }
  private move(account: string, to: AccountStateName, event: string, statusCode?: number) {
    const a = this.get(account);
    const from = a.state;
    a.state = to;
    this.emit({
      account,
      type: 'transition',
      from,
      to,
      event,
      ...(statusCode ? { statusCode, reason: 'connectionLost' } : {}),
    });
  }
  private emit(fact: Fact) {
    this.sink(fact);
  }
  private get(account: string): Account {
    const a = this.accounts.get(account);
    if (!a) throw new WaError('unknown_account', `no account ${account}`);
    return a;
  }
}
