// Client side of the simulator tests: a real, unmodified Baileys socket pointed at the
// simulator through `waWebSocketUrl`, trusting its certificate root, with in-memory auth
// state, a silent logger and a small keepalive; plus helpers that await events with a
// deadline (never a sleep).
import makeWASocket, {
  BufferJSON,
  WA_CERT_DETAILS,
  type AuthenticationCreds,
  type ConnectionState,
  type WAMessage,
  type WAMessageUpdate,
  type WASocket,
} from '@whiskeysockets/baileys';
import { Agent as HttpsAgent } from 'node:https';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import {
  startSimulator,
  type InboundRequest,
  type InboundResult,
  type LedgerEntry,
  type LedgerQuery,
  type RunningSimulator,
  type SimulatorOptions,
  type UploadRecord,
} from '../../src/simulator/index.js';
import { fromBufferJson, memoryAuth, type MemoryAuth } from './credentials.js';
import { Waiters } from './waiters.js';

/** Default deadline for awaiting one event on loopback. */
export const EVENT_DEADLINE_MS = 10_000;
/** How often `until` re-checks conditions that no client event signals (simulator state). */
const POLL_INTERVAL_MS = 20;
/** Small keepalive so dead-link detection (keepAlive + 5 s in Baileys) is testable. */
export const TEST_KEEPALIVE_MS = 1_000;

/** Trust the simulator's certificate root in this process (Baileys checks the chain against
 * this mutable export). Never do this against the real service. */
export function trustSimulator(sim: Pick<RunningSimulator, 'rootPublicKeyBytes'>): void {
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(sim.rootPublicKeyBytes);
}

/** An https agent that trusts the simulator's media certificate (and nothing else): give it
 * to Baileys as `fetchAgent`, which is what its media upload uses. Per socket, not global. */
export function mediaAgent(sim: Pick<RunningSimulator, 'caPem'>): HttpsAgent {
  return new HttpsAgent({ ca: sim.caPem });
}

/** Adds the simulator's media certificate to this process's default trusted CAs (Node ≥
 * 24.5), keeping the others: needed for Baileys' media download, which uses the global
 * `fetch` (undici) and takes no https agent. Verification stays on. Test processes only. */
export function trustMediaCertificate(sim: Pick<RunningSimulator, 'caPem'>): void {
  const current = getCACertificates('default');
  if (!current.includes(sim.caPem)) setDefaultCACertificates([...current, sim.caPem]);
}

/**
 * One trusted simulator for a test file, started before its tests and closed after them
 * together with every client the tests pushed to `clients`.
 */
export function simulatorPerFile(options: SimulatorOptions = {}): {
  readonly sim: RunningSimulator;
  clients: TestClient[];
} {
  let sim: RunningSimulator | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    sim = await startTrustedSimulator(options);
  });
  afterAll(async () => {
    for (const c of clients) c.end();
    await sim?.close();
  });
  return {
    get sim(): RunningSimulator {
      if (!sim) throw new Error('the simulator starts in beforeAll');
      return sim;
    },
    clients,
  };
}

export async function startTrustedSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator(options);
  trustSimulator(sim);
  return sim;
}

export interface ClientOptions {
  keepAliveIntervalMs?: number;
  connectTimeoutMs?: number;
  qrTimeout?: number;
}

export interface TestClient {
  sock: WASocket;
  auth: MemoryAuth;
  updates: Partial<ConnectionState>[];
  upserts: { type: string; messages: WAMessage[] }[];
  statusUpdates: WAMessageUpdate[];
  acks: { id: string; error?: string }[];
  /** Highest status seen for one of our messages (proto.WebMessageInfo.Status), from
   * messages.update or — when Baileys' event buffer merged the update into our own upsert —
   * from the upserted message itself. Error acks give ERROR (0) with stub parameters. */
  statusOf(id: string): { status: number; params?: string[] } | undefined;
  /** Resolves when `predicate` holds for the recorded events; rejects after the deadline. */
  until<T>(what: string, probe: () => T | undefined, deadlineMs?: number): Promise<T>;
  open(deadlineMs?: number): Promise<void>;
  /** The DisconnectReason (status code) the socket closed with. */
  closed(deadlineMs?: number): Promise<number | undefined>;
  end(): void;
}

export function connectClient(
  sim: Pick<RunningSimulator, 'wsUrl'> & Partial<Pick<RunningSimulator, 'caPem'>>,
  auth: MemoryAuth,
  options: ClientOptions = {},
): TestClient {
  const sock = makeWASocket({
    waWebSocketUrl: sim.wsUrl,
    auth: { creds: auth.creds, keys: auth.keys },
    logger: pino({ level: 'silent' }),
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? TEST_KEEPALIVE_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? EVENT_DEADLINE_MS,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // Media uploads go to the simulator's https host; trust its certificate on this socket.
    ...(sim.caPem ? { fetchAgent: mediaAgent({ caPem: sim.caPem }) } : {}),
    ...(options.qrTimeout ? { qrTimeout: options.qrTimeout } : {}),
  });
  const updates: Partial<ConnectionState>[] = [];
  const upserts: { type: string; messages: WAMessage[] }[] = [];
  const statusUpdates: WAMessageUpdate[] = [];
  const acks: { id: string; error?: string }[] = [];
  const waiters = new Waiters();
  const poke = (): void => waiters.poke();
  sock.ev.on('creds.update', (update) => {
    Object.assign(auth.creds, update);
    poke();
  });
  sock.ev.on('connection.update', (u) => {
    updates.push(u);
    poke();
  });
  sock.ev.on('messages.upsert', (u) => {
    upserts.push({ type: u.type, messages: u.messages });
    poke();
  });
  sock.ev.on('messages.update', (u) => {
    statusUpdates.push(...u);
    poke();
  });
  // The server's `<ack class=message>` is not an event in Baileys unless it carries an
  // error; the raw frame is the only way to see the server accepted a send.
  sock.ws.on('CB:ack,class:message', (node: { attrs: Record<string, string> }) => {
    const ack: { id: string; error?: string } = { id: node.attrs.id ?? '' };
    if (node.attrs.error) ack.error = node.attrs.error;
    acks.push(ack);
    poke();
  });

  // Also polled: some conditions are simulator state, which cannot poke.
  const until = <T>(what: string, probe: () => T | undefined, deadlineMs = EVENT_DEADLINE_MS): Promise<T> =>
    waiters.until(what, probe, deadlineMs, POLL_INTERVAL_MS);

  const closeCode = (): number | undefined | null => {
    const u = updates.find((x) => x.connection === 'close');
    if (!u) return null;
    const err = u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined;
    return err?.output?.statusCode;
  };

  const statusOf = (id: string): { status: number; params?: string[] } | undefined => {
    let best: { status: number; params?: string[] } | undefined;
    const consider = (status: number | null | undefined, params?: string[] | null): void => {
      if (status === null || status === undefined) return;
      if (status === 0) {
        best = params ? { status, params } : { status };
        return;
      }
      if (best?.status !== 0 && (best === undefined || status > best.status)) best = { status };
    };
    for (const u of upserts)
      for (const m of u.messages) if (m.key.id === id && m.key.fromMe) consider(m.status, m.messageStubParameters);
    for (const u of statusUpdates) if (u.key.id === id) consider(u.update.status, u.update.messageStubParameters);
    return best;
  };

  return {
    sock,
    auth,
    statusOf,
    updates,
    upserts,
    statusUpdates,
    acks,
    until,
    open: async (deadlineMs) => {
      await until(
        'connection open',
        () => {
          if (updates.some((u) => u.connection === 'open')) return true;
          const code = closeCode();
          if (code !== null) throw new Error(`closed with ${code} before open`);
          return undefined;
        },
        deadlineMs,
      );
    },
    closed: async (deadlineMs) => {
      const code = await until(
        'connection close',
        () => {
          const c = closeCode();
          return c === null ? undefined : { code: c };
        },
        deadlineMs,
      );
      return code.code;
    },
    end: () => {
      void sock.end(undefined); // test teardown: the socket is discarded either way
    },
  };
}

/** Provision an account in-process and connect a client with it; resolves once `open`. */
export async function openProvisioned(
  sim: RunningSimulator,
  options: ClientOptions & { preKeys?: number; phone?: string } = {},
): Promise<{ client: TestClient; phone: string }> {
  const { preKeys, phone, ...clientOptions } = options;
  const provisioned = sim.provisionAccount({
    ...(preKeys === undefined ? {} : { preKeys }),
    ...(phone === undefined ? {} : { phone }),
  });
  const auth = memoryAuth(fromBufferJson<AuthenticationCreds>(provisioned.creds), fromBufferJson(provisioned.keys));
  const client = connectClient(sim, auth, clientOptions);
  await client.open();
  return { client, phone: provisioned.account.phone };
}

/** Reconnects with the same auth state (a new socket, as after any disconnect). */
export function reconnect(sim: RunningSimulator, previous: TestClient, options: ClientOptions = {}): TestClient {
  return connectClient(sim, previous.auth, options);
}

/** One control API reply: the HTTP status and the parsed body (BufferJSON-revived). */
export interface ControlReply {
  status: number;
  body: Record<string, unknown> & { ok: boolean; error?: { code: string; message: string } };
}

/** The control API over HTTP, as an out-of-process client (the gateway's tests, the demo)
 * uses it. Methods other than `call` throw on a non-ok reply. */
export interface ControlApi {
  call(method: string, path: string, body?: unknown): Promise<ControlReply>;
  /** POST /inbound: a contact sends any kind; `media.data` is base64 (a Buffer is encoded). */
  inbound(req: Omit<InboundRequest, 'media'> & { media?: InboundRequest['media'] }): Promise<InboundResult>;
  /** GET /ledger (direction 'out' by default, 'in' for what contacts pushed). */
  ledger(query?: LedgerQuery): Promise<LedgerEntry[]>;
  /** GET /media: the media host and the certificate (PEM) to trust for it. */
  media(): Promise<{ url: string; caPem: string }>;
  /** GET /media/uploads: accepted uploads, in order (one account's, or all). */
  uploads(account?: string): Promise<UploadRecord[]>;
}

export function controlApi(sim: Pick<RunningSimulator, 'httpUrl'>): ControlApi {
  const call = async (method: string, path: string, body?: unknown): Promise<ControlReply> => {
    const init: RequestInit = { method };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${sim.httpUrl}${path}`, init);
    return { status: res.status, body: JSON.parse(await res.text(), BufferJSON.reviver) as ControlReply['body'] };
  };
  const ok = async (method: string, path: string, body?: unknown): Promise<ControlReply['body']> => {
    const r = await call(method, path, body);
    if (!r.body.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body.error)}`);
    return r.body;
  };
  return {
    call,
    inbound: async (req) => {
      const media = req.media && {
        ...req.media,
        data: typeof req.media.data === 'string' ? req.media.data : req.media.data.toString('base64'),
      };
      const body = await ok('POST', '/inbound', media ? { ...req, media } : req);
      return { id: String(body.id), status: body.status as InboundResult['status'] };
    },
    ledger: async (query = {}) => {
      const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined) as [string, string][]);
      return (await ok('GET', `/ledger?${qs.toString()}`)).entries as LedgerEntry[];
    },
    media: async () => {
      const body = await ok('GET', '/media');
      return { url: String(body.url), caPem: String(body.caPem) };
    },
    uploads: async (account) => {
      const body = await ok('GET', `/media/uploads${account ? `?account=${account}` : ''}`);
      return body.uploads as UploadRecord[];
    },
  };
}
