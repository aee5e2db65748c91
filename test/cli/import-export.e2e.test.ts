/**
 * A user switching to wa-connd from a Baileys-based gateway: their folder, written by
 * Baileys' own `useMultiFileAuthState` during a real QR pairing against the simulator,
 * goes in with `wa-connd accounts import` (a child process); a gateway child on that
 * data dir opens the account without pairing and sends (the simulator's ledger has
 * it). Then `wa-connd accounts export` gives a folder Baileys' `useMultiFileAuthState`
 * loads, and a plain Baileys socket logs in with it and sends. The refusals, byte for
 * byte, are in test/baileys/session-folder.int.test.ts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useMultiFileAuthState } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWaClient, type WaClient } from '../../src/client/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { MemoryAuth } from '../support/credentials.js';
import { runCli, spawnGateway, type GatewayChild } from '../support/gateway-child.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { connectClient, startTrustedSimulator, type TestClient } from '../support/simulator-client.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';

const ACCOUNT = 'shop';
const PHONE = '4915100000777';
const TO = '+4915100000101';
const CHAT = '4915100000101@s.whatsapp.net';
/** Gateway child start-up (tsx, Baileys) plus the login: generous on the shared 2-core box. */
const OPEN_DEADLINE_MS = 30_000;
/** A sent message reaches the simulator's ledger on loopback. */
const LEDGER_DEADLINE_MS = 10_000;

/** Baileys' own multi-file state as the test client's auth, saving creds on every update like Baileys' examples do. */
async function multiFileClient(
  sim: RunningSimulator,
  folder: string,
): Promise<{ client: TestClient; saved: () => Promise<void> }> {
  const { state, saveCreds } = await useMultiFileAuthState(folder);
  const client = connectClient(sim, { creds: state.creds, keys: state.keys, data: new Map() } satisfies MemoryAuth);
  let pending: Promise<void> = Promise.resolve();
  // connectClient's own listener (registered first) has merged the update into state.creds.
  client.sock.ev.on('creds.update', () => {
    pending = pending.then(saveCreds);
  });
  return { client, saved: () => pending };
}

describe('wa-connd accounts import / export: a Baileys folder moves in without a QR scan, and out again', () => {
  let nats: NatsServer;
  let sim: RunningSimulator;
  let tmp: { path: string; remove(): Promise<void> };
  let dataDir: string;
  let wa: WaClient;
  let gateway: GatewayChild | undefined;
  const clients: TestClient[] = [];
  // The default store, NATS KV: the CLI reaches this test's nats-server (never the shared one).
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir], { NATS_URL: nats.url });
  const delivered = (text: string) => sim.ledger({ account: PHONE, chat: CHAT }).filter((e) => e.text === text);

  beforeAll(async () => {
    nats = await startNatsServer();
    sim = await startTrustedSimulator();
    tmp = await tempDir('wa-connd-import-');
    dataDir = join(tmp.path, 'data');
    wa = await connectWaClient({ servers: nats.url });
  });
  afterAll(async () => {
    for (const c of clients) c.end();
    await gateway?.stop();
    await wa?.close();
    await sim?.close();
    await nats?.stop();
    await tmp?.remove();
  });

  it('imports a folder Baileys wrote while pairing by QR; the gateway opens it without pairing and sends', async () => {
    // The user's existing setup: Baileys pairs by QR, restarts (515), logs in and sends.
    const folder = join(tmp.path, 'baileys_auth_info');
    const first = await multiFileClient(sim, folder);
    clients.push(first.client);
    const qr = await first.client.until('a QR', () => first.client.updates.find((u) => u.qr)?.qr);
    sim.scanQr(qr, PHONE);
    expect(await first.client.closed()).toBe(515);
    await first.saved();
    const second = await multiFileClient(sim, folder);
    clients.push(second.client);
    await second.client.open();
    await second.client.sock.sendMessage(CHAT, { text: 'sent by baileys before the move' });
    await until(
      'the pre-move message in the ledger',
      () => delivered('sent by baileys before the move')[0],
      LEDGER_DEADLINE_MS,
      20,
    );
    second.client.end(); // the user stops their old gateway before moving
    await second.saved();
    expect((await readdir(folder)).length).toBeGreaterThan(1); // creds.json and keys: pre-keys, sessions …

    const imported = await cli('accounts', 'import', ACCOUNT, folder);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(
      new RegExp(`^imported ${ACCOUNT}: device ${PHONE}:\\d+@s\\.whatsapp\\.net, \\d+ keys`, 'm'),
    );
    expect(imported.stdout).toContain(', into NATS KV WA_AUTH ');

    gateway = await spawnGateway(tmp.path, {
      natsUrl: nats.url,
      dataDir,
      waUrl: sim.wsUrl,
      trustRoot: sim.rootPublicKey,
      accounts: [{ id: ACCOUNT, connect: true }],
    });
    await until(
      `${ACCOUNT} open`,
      async () => (await wa.status(ACCOUNT).catch(() => null))?.state === 'open',
      OPEN_DEADLINE_MS,
      100,
    );
    // Opened as the imported device: never asked for a QR.
    const history: { type: string }[] = [];
    for await (const { event } of wa.events({ account: ACCOUNT, since: 1, follow: false })) history.push(event);
    expect(history.filter((e) => e.type === 'qr' || e.type === 'paired')).toEqual([]);

    const reply = await wa.send(ACCOUNT, { id: 'after-move', to: TO, text: 'sent by wa-connd after the move' });
    expect(reply.status).toBe('queued');
    await until(
      'the gateway send in the ledger',
      () => delivered('sent by wa-connd after the move')[0],
      LEDGER_DEADLINE_MS,
      20,
    );
    expect(delivered('sent by wa-connd after the move')).toHaveLength(1);

    // While the gateway runs the account (it answers its status), both commands are refused.
    const again = await cli('accounts', 'import', ACCOUNT, folder, '--force');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^unavailable: a gateway runs shop/m);
    const busy = await cli('accounts', 'export', ACCOUNT, join(tmp.path, 'busy'));
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^unavailable: /m);
    expect(await readdir(tmp.path)).not.toContain('busy');
  });

  it("exports a folder Baileys' useMultiFileAuthState loads: a plain Baileys socket logs in with it and sends", async () => {
    expect(gateway).toBeDefined();
    await gateway!.stop();
    gateway = undefined;
    const out = join(tmp.path, 'exported');
    const exported = await cli('accounts', 'export', ACCOUNT, out, '--json');
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      account: ACCOUNT,
      me: expect.stringMatching(new RegExp(`^${PHONE}:\\d+@s\\.whatsapp\\.net$`)),
      dir: out,
    });
    // A second export into the now non-empty folder is refused.
    const twice = await cli('accounts', 'export', ACCOUNT, out);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^conflict: .* not an empty folder/m);

    const back = await multiFileClient(sim, out);
    clients.push(back.client);
    await back.client.open();
    expect(back.client.updates.some((u) => u.qr)).toBe(false);
    await back.client.sock.sendMessage(CHAT, { text: 'sent by baileys after the export' });
    await until(
      'the post-export message in the ledger',
      () => delivered('sent by baileys after the export')[0],
      LEDGER_DEADLINE_MS,
      20,
    );
  });
});
