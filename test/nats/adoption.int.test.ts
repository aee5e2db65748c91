/**
 * Adopting accounts at start through a real nats-server, with an in-memory runtime
 * whose `add` can be held: one slow account does not hold up the others, and until an
 * announced account is adopted its commands are `unavailable`, never `unknown_account`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { ADOPT_CONCURRENCY } from '../../src/nats/adoption.js';
import { type NatsLayer, startNatsLayer } from '../../src/nats/layer.js';
import type { AccountOptions } from '../../src/runtime/port.js';
import { natsServerPerFile } from '../support/nats-server.js';
import { FakeAccounts } from './fake-accounts.js';
import { request } from '../support/nats-client.js';
import { silent } from '../support/loggers.js';
import { until } from '../support/waiters.js';

let nc: NatsConnection;
const layers: NatsLayer[] = [];

natsServerPerFile((_server, c) => {
  nc = c;
});
afterEach(async () => {
  for (const l of layers.splice(0)) await l.close();
});

/** A runtime whose `add` of the accounts in `held` waits until `release()`. */
class HeldAccounts extends FakeAccounts {
  #release!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  constructor(private readonly held: Set<string>) {
    super();
  }
  release(): void {
    this.#release();
  }
  override async add(account: string, options: AccountOptions = {}): Promise<void> {
    if (this.held.has(account)) await this.#gate;
    return super.add(account, options);
  }
}

describe('when a gateway adopts its configured accounts', () => {
  it("adopts the others while one account's takeover is held up", async () => {
    const slow = 'ad-slow';
    const others = Array.from({ length: ADOPT_CONCURRENCY + 2 }, (_, i) => `ad-${i}`);
    const all = [slow, ...others];
    const fake = new HeldAccounts(new Set([slow]));
    const layer = await startNatsLayer({ nc, accounts: fake, logger: silent, pending: all });
    fake.sink = layer.sink;
    layers.push(layer);

    const adopting = layer.addAccounts(all.map((account) => ({ account, options: { connect: false } })));
    await until('every other account to be adopted while one is held', () => others.every((a) => fake.has(a)));
    expect(fake.has(slow)).toBe(false);
    expect(layer.adoptions.isAdopting(slow)).toBe(true);
    fake.release();
    await adopting;
    expect(all.every((a) => fake.has(a))).toBe(true);
  });

  it('answers unavailable (retryable), never unknown_account, for an announced account until it is adopted', async () => {
    const account = 'ad-later';
    const fake = new HeldAccounts(new Set([account]));
    const layer = await startNatsLayer({ nc, accounts: fake, logger: silent, pending: [account] });
    fake.sink = layer.sink;
    layers.push(layer);

    // Announced but not started yet, then started and held: both are "being adopted".
    const before = await request(nc, cmdSubject(account, 'status'));
    expect(before).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const adopting = layer.addAccount(account, { connect: true });
    for (const verb of ['send', 'status', 'connect'] as const) {
      const body = verb === 'send' ? { id: 'early-1', to: '+4915100000001', text: 'hi' } : {};
      expect(await request(nc, cmdSubject(account, verb), body)).toMatchObject({
        ok: false,
        error: { code: 'unavailable' },
      });
    }
    // An account nobody announced is still unknown.
    expect(await request(nc, cmdSubject('ad-nobody', 'status'))).toMatchObject({
      ok: false,
      error: { code: 'unknown_account' },
    });
    fake.release();
    await adopting;
    expect(
      await request(nc, cmdSubject(account, 'send'), { id: 'early-1', to: '+4915100000001', text: 'hi' }),
    ).toMatchObject({ ok: true, status: 'queued' });
  });
});
