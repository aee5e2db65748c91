// A 1 MiB image send (issue 13), gateway vs raw Baileys, side by side in one run in
// alternating blocks. Both talk to one in-process simulator (which decrypts every upload
// before it acks the message, the same work for both) and use the gateway's fsynced file
// auth store:
// - raw: `sock.sendMessage(contact, { image: <1 MiB> })` (encrypt, upload, relay) until the
//   server's `<ack class=message>`;
// - gateway: the client puts the bytes into WA_MEDIA, then `wa.cmd.<a>.send` names the
//   object; until the gateway's `send.acked` (ack=server) fact. Also reported: the send
//   request alone (object already put) to the same ack.
// Every sample is a fresh random image, so every send really uploads.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { pino } from 'pino';
import { openAuthStore, type AuthStore } from '../src/baileys/auth-store.js';
import { validateConfig } from '../src/config/load.js';
import { cmdSubject, MEDIA_BUCKET } from '../src/contract/index.js';
import { startGateway, type RunningGateway } from '../src/gateway/start.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { writeCredentials } from '../test/support/credentials.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import { connectClient, trustMediaCertificate, type TestClient } from '../test/support/simulator-client.js';
import { tempDir } from '../test/support/temp-dir.js';
import { until } from '../test/support/waiters.js';
import type { BenchSection } from './run.js';
import { fmt, median, percentile } from './stats.js';

const IMAGE_BYTES = 1024 * 1024;
/** Samples per side, in alternating blocks so load drift on a shared box hits both alike. */
const SAMPLES = 60;
const BLOCK = 10;
const WARMUP = 3;
const CONTACT_PHONE = '15557778888';
const CONTACT = `${CONTACT_PHONE}@s.whatsapp.net`;
/** One awaited ack: far above any loopback upload of 1 MiB. */
const ACK_DEADLINE_MS = 60_000;

export const title = 'Media send (1 MiB image)';

export default async function bench(): Promise<BenchSection> {
  const loadBefore = loadavg()[0]!;
  const sim: RunningSimulator = await startSimulator();
  trustMediaCertificate(sim);
  const nats = await startNatsServer();
  const dir = await tempDir('wa-connd-bench-media-');
  const nc = await connectTo(nats.url);
  let running: RunningGateway | undefined;
  let raw: TestClient | undefined;
  let store: AuthStore | undefined;
  try {
    await writeCredentials(`${dir.path}/data`, 'bench', sim.provisionAccount({ preKeys: 20 }));
    await writeCredentials(`${dir.path}/data`, 'raw', sim.provisionAccount({ preKeys: 20 }));
    const config = validateConfig({
      dataDir: `${dir.path}/data`,
      log: { level: 'silent' },
      http: { port: 0 },
      nats: { url: nats.url, startLocal: false },
      whatsapp: { url: sim.wsUrl, trustRootPublicKey: sim.rootPublicKey },
      accounts: [{ id: 'bench', connect: true }],
    });
    running = await startGateway(config, pino({ level: 'silent' }));
    const acked = new Map<string, number>();
    running.onFact((f) => {
      if (f.type === 'send.acked' && f.ack === 'server' && !acked.has(f.id)) acked.set(f.id, performance.now());
    });
    store = await openAuthStore(`${dir.path}/data`, 'raw');
    raw = connectClient(sim, { creds: store.state.creds, keys: store.state.keys, data: new Map() });
    await raw.open();
    await until('the gateway account open', () => running!.gateway.state('bench') === 'open', ACK_DEADLINE_MS);
    const bucket = await new Objm(jetstream(nc)).open(MEDIA_BUCKET);

    let n = 0;
    const rawOnce = async (): Promise<number> => {
      const image = randomBytes(IMAGE_BYTES);
      const t0 = performance.now();
      const sent = await raw!.sock.sendMessage(CONTACT, { image, mimetype: 'image/jpeg' });
      await raw!.until('ack', () => raw!.acks.find((a) => a.id === sent?.key.id), ACK_DEADLINE_MS);
      return performance.now() - t0;
    };
    const gwOnce = async (): Promise<{ total: number; send: number }> => {
      const id = `img-${n++}`;
      const image = randomBytes(IMAGE_BYTES);
      const t0 = performance.now();
      await bucket.putBlob({ name: id }, image);
      const t1 = performance.now();
      const m = await nc.request(
        cmdSubject('bench', 'send'),
        JSON.stringify({ id, to: `+${CONTACT_PHONE}`, kind: 'image', media: { object: id } }),
        { timeout: ACK_DEADLINE_MS },
      );
      const reply = m.json<{ ok: boolean }>();
      if (!reply.ok) throw new Error(`send ${id}: ${JSON.stringify(reply)}`);
      await until(`server ack of ${id}`, () => acked.get(id), ACK_DEADLINE_MS);
      const at = acked.get(id)!;
      return { total: at - t0, send: at - t1 };
    };

    for (let i = 0; i < WARMUP; i++) {
      await rawOnce();
      await gwOnce();
    }
    const rawMs: number[] = [];
    const gwMs: number[] = [];
    const gwSendMs: number[] = [];
    for (let done = 0; done < SAMPLES; done += BLOCK) {
      for (let i = 0; i < BLOCK; i++) rawMs.push(await rawOnce());
      for (let i = 0; i < BLOCK; i++) {
        const s = await gwOnce();
        gwMs.push(s.total);
        gwSendMs.push(s.send);
      }
    }
    const row = (name: string, xs: number[]) =>
      `| ${name} | ${fmt(median(xs))} | ${fmt(percentile(xs, 99))} | ${fmt(median(xs) / median(rawMs), 2)}× |`;
    const markdown = [
      `${SAMPLES} sends of a fresh random 1 MiB image per side, in alternating blocks of ${BLOCK} after ${WARMUP} warm-up sends each,`,
      "to one in-process simulator (it decrypts each upload before acking, the same work for both sides), both on the gateway's",
      'fsynced file auth store. Time from the start of the send to the server ack:',
      '',
      '| path | median ms | p99 ms | median vs raw |',
      '| --- | --- | --- | --- |',
      row('raw Baileys `sendMessage({ image })`', rawMs),
      row('gateway: put into WA_MEDIA + `send` → `send.acked`', gwMs),
      row('gateway: `send` (object already put) → `send.acked`', gwSendMs),
      '',
      'The gateway path does more than raw Baileys: the client puts the bytes into JetStream (Object Store chunks), the gateway checks',
      'the object, records `send.queued`, reads the object back, records `send.uploaded` (so a replay never uploads again) and `send.sent`',
      'before the ack. Raw Baileys also tries to compute a thumbnail (no image library is installed, so it gives up after writing the file to a temp dir);',
      'the gateway sends without one. On the critical path the gateway adds three round trips through nats-server (the send request, the',
      "object's `info`, the `send.queued` publish ack; the object is read ahead meanwhile), each a scheduling hop to another process.",
      '',
      `Measured under load (1-minute load average ${loadBefore.toFixed(1)} at the start, on ${cpus().length} cores shared with other work).`,
      'Target (issue 13): ≤ 1.3× raw.',
    ].join('\n');
    return { title, markdown };
  } finally {
    raw?.end();
    await store?.close().catch(() => undefined);
    await running?.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await nats.stop().catch(() => undefined);
    await sim.close().catch(() => undefined);
    await dir.remove().catch(() => undefined);
  }
}
