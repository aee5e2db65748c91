/**
 * The demo's view of the simulator: the WhatsApp endpoint to connect to, accounts to
 * provision, the fault policy to set and the ledger to check. Either a simulator
 * started in this process, or one already running elsewhere (docker-compose's
 * `simulator` service), reached through its control API.
 */
import type { Logger } from 'pino';
import { startSimulator, toBufferJson, type FaultConditions } from '../simulator/index.js';
import { trustSimulatorMedia } from './media-trust.js';
import type { LedgerRow } from './tally.js';

/**
 * One-time prekeys created at provisioning. With none, the first login uploads 812
 * (as after a real pairing) and takes seconds — long enough for the idle timer to cut
 * that first session early, which would blur the drop rhythm the demo shows.
 */
const PREKEYS = 30;

export type Provisioned = { phone: string; /** BufferJSON text */ creds: string; /** BufferJSON text */ keys: string };

export interface SimulatorLink {
  wsUrl: string;
  /** The control API's base URL. */
  controlUrl: string;
  rootPublicKey: string;
  provision(): Promise<Provisioned>;
  setFaults(conditions: FaultConditions): Promise<void>;
  ledger(phone: string): Promise<LedgerRow[]>;
  /** A group of these phones (the first is its owner); its JID. */
  createGroup(subject: string, participants: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalSimulator(timeScale: number, logger: Logger): Promise<SimulatorLink> {
  const sim = await startSimulator({ timeScale, logger });
  trustSimulatorMedia(sim.caPem, logger);
  return {
    wsUrl: sim.wsUrl,
    controlUrl: sim.httpUrl,
    rootPublicKey: sim.rootPublicKey,
    provision: async () => {
      const p = sim.provisionAccount({ preKeys: PREKEYS });
      return { phone: p.account.phone, creds: toBufferJson(p.creds), keys: toBufferJson(p.keys) };
    },
    setFaults: async (c) => sim.setFaults(c),
    ledger: async (phone) => sim.ledger({ account: phone }).map(row),
    createGroup: async (subject, participants) => sim.createGroup({ subject, participants }).jid,
    close: () => sim.close(),
  };
}

/**
 * A simulator started elsewhere. Its time scale is its own (`--time-scale`); `wsUrl`
 * is how this process reaches its WebSocket (its ready line names its own bind address).
 */
export async function remoteSimulator(httpUrl: string, wsUrl: string, logger: Logger): Promise<SimulatorLink> {
  const call = async (method: string, path: string, body?: unknown): Promise<string> => {
    const res = await fetch(new URL(path, httpUrl), {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text;
  };
  const { rootPublicKey } = JSON.parse(await call('GET', '/root-key')) as { rootPublicKey: string };
  const { caPem } = JSON.parse(await call('GET', '/media')) as { caPem: string };
  trustSimulatorMedia(caPem, logger);
  return {
    wsUrl,
    controlUrl: httpUrl,
    rootPublicKey,
    provision: async () => {
      // Keep the Buffer markers: the text is parsed with BufferJSON.reviver where it is used.
      const doc = JSON.parse(await call('POST', '/accounts', { preKeys: PREKEYS })) as {
        account: { phone: string };
        creds: unknown;
        keys: unknown;
      };
      return { phone: doc.account.phone, creds: JSON.stringify(doc.creds), keys: JSON.stringify(doc.keys) };
    },
    setFaults: async (c) => {
      await call('PUT', '/faults', c);
    },
    ledger: async (phone) =>
      (JSON.parse(await call('GET', `/ledger?account=${phone}`)) as { entries: SimRow[] }).entries.map(row),
    createGroup: async (subject, participants) =>
      (JSON.parse(await call('POST', '/groups', { subject, participants })) as { group: { jid: string } }).group.jid,
    close: async () => undefined,
  };
}

/** A ledger entry as the simulator reports it: an image's caption stands for its text (the tally matches by it). */
type SimRow = LedgerRow & { caption?: string };

const row = ({ id, text, caption, count, recipients }: SimRow): LedgerRow => ({
  id,
  text: text ?? caption,
  count,
  ...(recipients ? { recipients } : {}),
});
