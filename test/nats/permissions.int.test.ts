/**
 * The permission sets docs ship (docs/nats/permissions.conf, docs/security.md), run as
 * they are by a real nats-server: only the store dir is the test's own, and the port is
 * given on the command line. Each user does what it should, and nothing more: the
 * gateway runs (a NATS layer, its KV buckets), `sales` commands and reads only `sales`,
 * the observer reads everything and commands nothing, and nobody but the gateway reaches
 * `WA_AUTH`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cmdSubject,
  EVENTS_STREAM,
  evtFilter,
  isFenceMarker,
  parseEvent,
  sendReplySchema,
  statusReplySchema,
  WaError,
} from '../../src/contract/index.js';
import { type NatsLayer, startNatsLayer } from '../../src/nats/layer.js';
import { request } from '../support/nats-client.js';
import { connectTo, type NatsServer, startNatsServer } from '../support/nats-server.js';
import { silent } from '../support/loggers.js';
import { tempDir } from '../support/temp-dir.js';
import { FakeAccounts } from './fake-accounts.js';

const CONFIG = join(import.meta.dirname, '../../docs/nats/permissions.conf');
const SHIPPED_STORE_DIR = '"/var/lib/nats/jetstream"';
const PASSWORDS = { gateway: 'gw-pass-1', sales: 'sales-pass-1', observer: 'obs-pass-1' };
/** A denied publish never gets a reply; an allowed one here always does, well within this. */
const DENIED_WITHIN_MS = 1_500;
const to = '+4915100000001';

let server: NatsServer;
let dir: Awaited<ReturnType<typeof tempDir>>;
let gateway: NatsConnection;
let sales: NatsConnection;
let observer: NatsConnection;
let layer: NatsLayer;

beforeAll(async () => {
  dir = await tempDir('wa-connd-perm-');
  const shipped = await readFile(CONFIG, 'utf8');
  expect(shipped).toContain(SHIPPED_STORE_DIR);
  const conf = join(dir.path, 'permissions.conf');
  await writeFile(conf, shipped.replace(SHIPPED_STORE_DIR, JSON.stringify(join(dir.path, 'js'))));
  process.env['WA_GATEWAY_PASSWORD'] = PASSWORDS.gateway;
  process.env['WA_SALES_PASSWORD'] = PASSWORDS.sales;
  process.env['WA_OBSERVER_PASSWORD'] = PASSWORDS.observer;
  // -p (the test's free port) overrides the file's 4222; JetStream comes from the file.
  server = await startNatsServer({ jetstream: false, args: ['-c', conf] });
  gateway = await connectTo(server.url, { user: 'gateway', pass: PASSWORDS.gateway });
  sales = await connectTo(server.url, { user: 'sales', pass: PASSWORDS.sales, inboxPrefix: '_INBOX_sales' });
  observer = await connectTo(server.url, {
    user: 'observer',
    pass: PASSWORDS.observer,
    inboxPrefix: '_INBOX_observer',
  });
  const fake = new FakeAccounts();
  layer = await startNatsLayer({ nc: gateway, accounts: fake, logger: silent });
  fake.sink = layer.sink;
  await layer.addAccount('sales', { connect: true });
  await layer.addAccount('support', { connect: true });
  const auth = await new Kvm(gateway).create('WA_AUTH', { history: 1 });
  await auth.put('sales.creds', 'noise-key-of-sales');
}, 30_000);

afterAll(async () => {
  await layer?.close();
  await Promise.all([gateway?.close(), sales?.close(), observer?.close()]);
  await server?.stop();
  await dir?.remove();
});

/** The request is refused by the server (permissions violation) or, at least, never answered. */
async function denied(nc: NatsConnection, subject: string, body = ''): Promise<void> {
  await expect(nc.request(subject, body, { timeout: DENIED_WITHIN_MS })).rejects.toThrow();
}

/** The server refuses the subscription: nats.js closes it with the permissions error. */
async function subscriptionDenied(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject);
  const closed = await Promise.race([
    sub.closed,
    new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), DENIED_WITHIN_MS)),
  ]);
  if (closed === 'open') sub.unsubscribe();
  expect(closed, subject).toBeInstanceOf(Error);
  expect(String(closed)).toMatch(/permission/i);
}

/** Events read through a durable consumer of `name` with `filter`, as that user. */
async function readThroughConsumer(nc: NatsConnection, name: string, filter: string) {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const c = await jetstream(nc).consumers.get(EVENTS_STREAM, name);
  const accounts = new Set<string>();
  for await (const m of await c.fetch({ max_messages: 200, expires: 1_000 })) {
    m.ack();
    if (isFenceMarker(m.headers)) continue;
    const e = parseEvent(m.data);
    if (!(e instanceof WaError)) accounts.add(e.account);
  }
  await jsm.consumers.delete(EVENTS_STREAM, name);
  return accounts;
}

describe('the gateway', () => {
  it('runs: takes its accounts over, answers commands, keeps WA_AUTH', async () => {
    expect(layer.publisher.isReady('sales') && layer.publisher.isReady('support')).toBe(true);
    const kv = await new Kvm(gateway).open('WA_AUTH');
    expect((await kv.get('sales.creds'))?.string()).toBe('noise-key-of-sales');
  });
});

describe('a client of sales', () => {
  it('commands sales and reads its events, live and through its own consumer', async () => {
    const live = sales.subscribe(evtFilter('sales'));
    const reply = sendReplySchema.parse(
      await request(sales, cmdSubject('sales', 'send'), { id: 'p1', to, text: 'hi' }),
    );
    expect(reply).toMatchObject({ ok: true, status: 'queued' });
    for await (const m of live) {
      const e = parseEvent(m.data);
      if (!(e instanceof WaError) && e.type === 'send.queued') break;
    }
    expect(statusReplySchema.parse(await request(sales, cmdSubject('sales', 'status')))).toMatchObject({
      account: 'sales',
    });
    expect([...(await readThroughConsumer(sales, 'sales', evtFilter('sales')))]).toEqual(['sales']);
  });

  it('cannot command or read support', async () => {
    await denied(sales, cmdSubject('support', 'status'));
    await denied(sales, cmdSubject('support', 'send'), JSON.stringify({ id: 'x', to, text: 'x' }));
    await denied(sales, 'wa.cmd.accounts.add', JSON.stringify({ account: 'mine' }));
    await subscriptionDenied(sales, evtFilter('support'));
    await subscriptionDenied(sales, evtFilter());
    await expect(readThroughConsumer(sales, 'sales', evtFilter('support'))).rejects.toThrow();
    await expect(readThroughConsumer(sales, 'sales', evtFilter())).rejects.toThrow();
    // Another name (e.g. a webhook's wh_<id>, filtered wa.evt.>) or the old create API (filter in the body only).
    await denied(sales, `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.wh_crm`, JSON.stringify({ batch: 1 }));
    await denied(sales, `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}`, JSON.stringify({ stream_name: EVENTS_STREAM }));
    await denied(sales, `$JS.API.STREAM.MSG.GET.${EVENTS_STREAM}`, JSON.stringify({ seq: 1 }));
  });

  it('cannot read WA_AUTH, nor the replies that carry it to the gateway', async () => {
    await denied(
      sales,
      '$JS.API.STREAM.MSG.GET.KV_WA_AUTH',
      JSON.stringify({ last_by_subj: '$KV.WA_AUTH.sales.creds' }),
    );
    await denied(sales, '$JS.API.DIRECT.GET.KV_WA_AUTH.$KV.WA_AUTH.sales.creds');
    await denied(sales, '$JS.API.STREAM.INFO.KV_WA_AUTH');
    await denied(sales, '$JS.API.CONSUMER.CREATE.KV_WA_AUTH.peek.$KV.WA_AUTH.>', JSON.stringify({}));
    await expect(new Kvm(sales).open('WA_AUTH').then((kv) => kv.get('sales.creds'))).rejects.toThrow();
    await subscriptionDenied(sales, '$KV.WA_AUTH.>');
    await subscriptionDenied(sales, '_INBOX.>');
    await subscriptionDenied(sales, '_INBOX_observer.>');
  });
});

describe('the observer', () => {
  it("reads every account's events and status", async () => {
    for (const account of ['sales', 'support'])
      expect(statusReplySchema.parse(await request(observer, cmdSubject(account, 'status')))).toMatchObject({
        account,
      });
    expect(await readThroughConsumer(observer, 'observer', evtFilter())).toEqual(new Set(['sales', 'support']));
  });

  it('commands nothing and cannot read WA_AUTH', async () => {
    await denied(observer, cmdSubject('sales', 'send'), JSON.stringify({ id: 'o1', to, text: 'x' }));
    await denied(observer, cmdSubject('support', 'logout'));
    await denied(observer, 'wa.cmd.accounts.remove', JSON.stringify({ account: 'sales' }));
    await denied(
      observer,
      '$JS.API.STREAM.MSG.GET.KV_WA_AUTH',
      JSON.stringify({ last_by_subj: '$KV.WA_AUTH.sales.creds' }),
    );
    await denied(observer, `$JS.API.STREAM.PURGE.${EVENTS_STREAM}`, JSON.stringify({}));
    await subscriptionDenied(observer, '$KV.WA_AUTH.>');
    await subscriptionDenied(observer, 'wa.cmd.>');
  });
});
