/**
 * Issue 14, groups: the whole gateway in-process against real Baileys, the simulator and a
 * real nats-server. A group send reaches every participant's device once, also when it is
 * held across a forced 408 and replayed, in order with the 1:1 sends around it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmdSubject } from '../../src/contract/index.js';
import { waMessageIdFor } from '../../src/runtime/message-id.js';
import type { Fact, FactOf } from '../../src/runtime/port.js';
import type { GroupInfo } from '../../src/simulator/groups/directory.js';
import { startScenario, type Scenario } from '../support/gateway-scenario.js';
import { request } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { Waiters } from '../support/waiters.js';

const DEADLINE_MS = 20_000;
/** The simulator's ledger lives outside the fact log: re-checked this often. */
const LEDGER_POLL_MS = 20;
const MEMBERS = ['4915100000301', '4915100000302', '4915100000303'];
const CONTACT = '4915100000310';

let s: Scenario;
let nc: NatsConnection;
let phone: string;
let group: GroupInfo;
let w: ReturnType<typeof watch>;

function watch(sc: Scenario) {
  const waiters = new Waiters();
  sc.running.onFact(() => waiters.poke());
  const of = <T extends Fact['type']>(type: T) =>
    sc.facts.filter((f): f is FactOf<T> => f.type === type && f.account === sc.account);
  const until = <T>(what: string, probe: () => T | undefined, pollMs?: number) =>
    waiters.until(what, probe, DEADLINE_MS, pollMs);
  const acked = (ids: string[]) => () =>
    ids.every((id) => of('send.acked').some((a) => a.id === id && a.ack === 'server')) ? true : undefined;
  return { of, until, acked };
}

beforeAll(async () => {
  s = await startScenario({ account: 'grp' });
  nc = await connectTo(s.nats.url);
  phone = s.provisioned.account.phone;
  group = s.sim.createGroup({ subject: 'Alerts', participants: [phone, ...MEMBERS], admins: [MEMBERS[0]!] });
  w = watch(s);
  await s.entered('open');
});
afterAll(async () => {
  await nc?.close();
  await s?.close();
});

async function send(id: string, to: string): Promise<void> {
  const reply = await request(nc, cmdSubject(s.account, 'send'), { id, to, text: `text of ${id}` });
  expect(reply, id).toMatchObject({ ok: true });
}

const everyDevice = () => Object.fromEntries([phone, ...MEMBERS].map((p) => [`${p}@s.whatsapp.net`, 1]));

describe('a send to a group', () => {
  it('reaches every participant device once, also held across a 408 and replayed in order', async () => {
    const plan: [string, string][] = [
      ['u1', `+${CONTACT}`],
      ['g1', group.jid],
    ];
    for (const [id, to] of plan) await send(id, to);
    await w.until('the first sends acknowledged', w.acked(plan.map(([id]) => id)));
    // The server goes dark and cuts the session with 408: the account cannot log in again
    // until the silence ends, so the next sends are held.
    s.sim.setFaults({ silence: true });
    s.sim.inject({ type: 'stream-error', code: 408 }, phone);
    await s.entered('reconnecting');
    const held: [string, string][] = [
      ['g2', group.jid],
      ['u2', `+${CONTACT}`],
      ['g3', group.jid],
    ];
    for (const [id, to] of held) await send(id, to);
    expect(w.of('send.sent').filter((f) => held.some(([id]) => id === f.id))).toEqual([]);
    s.sim.clearFaults(undefined, ['silence']);
    const all = [...plan, ...held];
    await w.until('every send acknowledged by the server', w.acked(all.map(([id]) => id)));

    const expected = all.map(([id]) => waMessageIdFor(s.account, id));
    const ledger = await w.until(
      'every send at the simulator',
      () => {
        const entries = s.sim.ledger({ account: phone });
        return entries.length >= expected.length ? entries : undefined;
      },
      LEDGER_POLL_MS,
    );
    // Once each, in the order the sends were accepted, groups and 1:1 interleaved.
    expect(ledger.map((e) => e.id)).toEqual(expected);
    expect(ledger.map((e) => e.count)).toEqual(expected.map(() => 1));
    for (const e of ledger.filter((x) => x.chat === group.jid)) {
      expect(e.text).toBe(`text of ${all.find(([id]) => waMessageIdFor(s.account, id) === e.id)?.[0]}`);
      expect(e.recipients).toEqual(everyDevice());
    }
    expect(w.of('send.failed')).toEqual([]);
  });
});
