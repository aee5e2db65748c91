/**
 * Auth state in NATS KV (the default `auth.store: kv`), end to end: a gateway child
 * process pairs-by-provisioning, sends, is SIGKILLed, and its whole data dir is deleted;
 * a new process with an empty data dir opens the account from KV alone and sends on.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH_BUCKET, credsKey } from '../../src/baileys/auth-codec.js';
import { cmdSubject } from '../../src/contract/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { writeCredentials } from '../support/credentials.js';
import { spawnGateway, waitReady, type GatewayChild } from '../support/gateway-child.js';
import { request } from '../support/nats-client.js';
import { connectTo, startNatsServer, type NatsServer } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/waiters.js';

const ACCOUNT = 'kvacct';
const CONTACT = '+15557770001';
/** A child connects to the simulator and the server acks a text: seconds; far above, it hangs. */
const DEADLINE_MS = 30_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function openAndSend(
  nc: NatsConnection,
  sim: RunningSimulator,
  phone: string,
  child: GatewayChild,
  id: string,
  text: string,
) {
  await waitReady(nc, child, ACCOUNT);
  let last: unknown;
  await until(
    () => `${ACCOUNT} open (last status ${JSON.stringify(last)}):\n${child.output()}`,
    async () => {
      const r = await request(nc, cmdSubject(ACCOUNT, 'status'));
      last = r;
      return r['state'] === 'open' || r['state'] === 'idle' ? true : undefined;
    },
    DEADLINE_MS,
  );
  const r = await request(nc, cmdSubject(ACCOUNT, 'send'), { id, to: CONTACT, text });
  expect(r.ok, JSON.stringify(r)).toBe(true);
  await until(
    () => `"${text}" decrypted by the simulator`,
    () => sim.ledger({ account: phone }).some((e) => e.text === text && e.decrypted) || undefined,
    DEADLINE_MS,
  );
}

describe('credentials in NATS KV', () => {
  it('a paired account opens in a new process with an empty data dir after the first was SIGKILLed and its files deleted', async () => {
    const nats: NatsServer = await startNatsServer();
    cleanups.push(() => nats.stop());
    const sim = await startSimulator();
    cleanups.push(() => sim.close());
    const nc = await connectTo(nats.url);
    cleanups.push(() => nc.close());
    const first = await tempDir('wa-connd-kv-first-');
    const second = await tempDir('wa-connd-kv-second-');
    cleanups.push(
      () => first.remove(),
      () => second.remove(),
    );
    const dataDir = join(first.path, 'data');
    const provisioned = sim.provisionAccount({ preKeys: 10 });
    const phone = provisioned.account.phone;
    await writeCredentials(dataDir, ACCOUNT, provisioned);
    const config = (dir: string) => ({
      natsUrl: nats.url,
      dataDir: dir,
      waUrl: sim.wsUrl,
      trustRoot: sim.rootPublicKey,
      accounts: [{ id: ACCOUNT, connect: true }],
    });

    const a = await spawnGateway(first.path, config(dataDir));
    cleanups.push(() => a.kill('SIGKILL'));
    await openAndSend(nc, sim, phone, a, 'kv-1', 'before the crash');
    // Moved into KV at the first open: nothing of the account is left on disk.
    expect(existsSync(join(dataDir, ACCOUNT))).toBe(false);
    const kv = await new Kvm(nc).open(AUTH_BUCKET);
    expect((await kv.get(credsKey(ACCOUNT)))?.operation).toBe('PUT');

    await a.kill('SIGKILL');
    await rm(first.path, { recursive: true, force: true });

    const emptyDir = join(second.path, 'data');
    const b = await spawnGateway(second.path, config(emptyDir));
    cleanups.push(() => b.stop());
    await openAndSend(nc, sim, phone, b, 'kv-2', 'after the crash, from KV alone');
    // Never asked to pair: no QR, the same device.
    expect(b.allOutput()).not.toMatch(/"qr"|not paired/);
    expect(await readdir(emptyDir).catch(() => [])).not.toContain(ACCOUNT);
  }, 120_000);
});
