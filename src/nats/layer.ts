/**
 * `startNatsLayer`: everything on the NATS side of the runtime port, wired in the
 * order docs/architecture.md gives:
 * 1. connect (or use the caller's connection), check the server version;
 * 2. create or update `WA_EVENTS`;
 * 3. take over the runtime's accounts: fence markers, then rebuild the projections;
 * 4. recover: hand each account's outbox to the runtime, in order;
 * 5. start the command service.
 * Wiring for the composition root: construct the runtime with a sink that forwards to
 * `layer.sink` (facts emitted before the layer is up wait in the publisher once it is),
 * then add accounts with `layer.addAccount` so each is fenced, rebuilt and recovered
 * before it runs. Accounts the runtime already has at start are taken over and
 * recovered here.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Service } from '@nats-io/services';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { assertAccountId } from '../contract/index.js';
import type { AccountOptions, AccountsPort, FactSink } from '../runtime/port.js';
import { ADOPT_CONCURRENCY, Adoptions, inPool } from './adoption.js';
import { startCommandService } from './command-service.js';
import { EventCounters, registerEventMetrics } from './counters.js';
import { EventPublisher, PUBLISHER_DEFAULTS } from './event-publisher.js';
import { Projection } from './projection.js';
import { Sends } from './sends.js';
import { checkServerVersion, DEFAULT_STREAM_SETTINGS, ensureStream, type StreamSettings } from './stream.js';

/** How long a `send` waits for its `send.queued` ack; well inside a client's usual 10 s request timeout. */
export const RECORD_TIMEOUT_MS = 5_000;
/** logout, pair and accounts.add wait on WhatsApp; past this the client gets `timeout`. */
export const CALL_TIMEOUT_MS = 8_000;

export type NatsLayerOptions = {
  /** An open connection (kept open on close) or a URL to connect to (closed on close). */
  nc?: NatsConnection;
  url?: string;
  accounts: AccountsPort;
  logger: Logger;
  /** Fencing epoch; a fresh random one per start when omitted. `[A-Za-z0-9_-]{1,64}`. */
  writerId?: string;
  stream?: Partial<StreamSettings>;
  /** Offline buffer: soft bound and the reserve for send outcomes and inbound messages. */
  buffer?: { maxBuffered?: number; reserve?: number };
  publishTimeoutMs?: number;
  recordTimeoutMs?: number;
  callTimeoutMs?: number;
  /** When given, `wa_events_*` metrics are registered on it. */
  registry?: Registry;
  /** Another writer took an account over. Default: log and stop the account in the runtime. */
  onFenced?: (account: string) => void;
  /**
   * Accounts the caller adds right after start (the config's). From the moment the
   * command service answers until each is adopted, its commands get `unavailable`
   * (retry), not `unknown_account`.
   */
  pending?: readonly string[];
};

export type NatsLayer = {
  sink: FactSink;
  counters: EventCounters;
  projection: Projection;
  publisher: EventPublisher;
  service: Service;
  /** The send path: decisions, hand-over to the runtime, outbox recovery. */
  sends: Sends;
  writerId: string;
  /** Takes the account over (fence + rebuild), adds it to the runtime, hands it its outbox. */
  addAccount(account: string, options?: AccountOptions): Promise<void>;
  /**
   * `addAccount` for each, `ADOPT_CONCURRENCY` at a time, so a slow takeover holds up
   * no other account. Settles when all have; rejects with the first failure, if any.
   */
  addAccounts(list: readonly { account: string; options?: AccountOptions }[]): Promise<void>;
  /** Which accounts commands may use, and which are still being adopted. */
  adoptions: Adoptions;
  /** Removes it from the runtime and fails what it still had queued (`send.failed`). */
  removeAccount(account: string): Promise<void>;
  /** Stops the service, publishes what it can (bounded), closes an own connection. */
  close(): Promise<void>;
};

export async function startNatsLayer(options: NatsLayerOptions): Promise<NatsLayer> {
  const { accounts, logger } = options;
  const ownConnection = !options.nc;
  const nc = options.nc ?? (await connect({ servers: options.url ?? 'nats://127.0.0.1:4222', maxReconnectAttempts: -1, name: 'wa-connd' }));
  const writerId = options.writerId ?? `w${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
  const log = logger.child({ writerId });
  try {
    checkServerVersion(nc, log);
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { ...DEFAULT_STREAM_SETTINGS, ...options.stream }, log);
    const js = jetstream(nc);

    const projection = new Projection();
    const counters = new EventCounters();
    if (options.registry) registerEventMetrics(options.registry, counters);
    const onFenced =
      options.onFenced ??
      ((account: string) => {
        // The other writer owns the account now: do not fight it for the WhatsApp session.
        try {
          if (accounts.has(account)) accounts.disconnect(account);
        } catch (err) {
          log.child({ account }).error({ err }, 'could not stop a fenced account');
        }
      });
    const publisher = new EventPublisher({
      js,
      jsm,
      writerId,
      logger: log,
      projection,
      counters,
      maxBuffered: options.buffer?.maxBuffered ?? PUBLISHER_DEFAULTS.maxBuffered,
      reserve: options.buffer?.reserve ?? PUBLISHER_DEFAULTS.reserve,
      publishTimeoutMs: options.publishTimeoutMs ?? PUBLISHER_DEFAULTS.publishTimeoutMs,
      onFenced,
    });
    const adoptions = new Adoptions(accounts, (account) => publisher.takeoverFailures(account));
    adoptions.announce(options.pending ?? []);
    const sends = new Sends({ accounts, adoptions, publisher, projection, logger: log, recordTimeoutMs: options.recordTimeoutMs ?? RECORD_TIMEOUT_MS });

    const recover = (account: string) => {
      const r = sends.recover(account);
      if (r.submitted || r.expired) log.child({ account }).info(r, 'outbox recovered from WA_EVENTS');
    };
    const initial = accounts.list().map((a) => a.account);
    await publisher.adopt(initial);
    for (const account of initial) recover(account);

    const addAccount = async (account: string, opts: AccountOptions = {}) => {
      // A bad id would fail every takeover attempt forever: refuse it here (bad_request, with why).
      assertAccountId(account);
      if (accounts.has(account)) return;
      await adoptions.run(account, async () => {
        await publisher.adopt([account]);
        await accounts.add(account, opts);
        recover(account);
      });
    };
    const addAccounts = async (list: readonly { account: string; options?: AccountOptions }[]) => {
      const results = await inPool(list, ADOPT_CONCURRENCY, (a) => addAccount(a.account, a.options));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ account: list[i]?.account, err: r.reason as unknown }] : []));
      for (const f of failed) log.child({ account: f.account }).error({ err: f.err }, 'could not add the account');
      if (failed[0]) throw failed[0].err;
    };
    const removeAccount = async (account: string) => {
      await accounts.remove(account);
      const failed = sends.failOutbox(account, 'the account was removed before this send was confirmed');
      log.child({ account }).info({ failedSends: failed }, 'account removed');
    };

    const service = await startCommandService({
      nc,
      accounts,
      adoptions,
      admin: { add: addAccount, remove: removeAccount },
      sends,
      publisher,
      projection,
      logger: log,
      callTimeoutMs: options.callTimeoutMs ?? CALL_TIMEOUT_MS,
    });

    let closed = false;
    return {
      sink: publisher.sink,
      counters,
      projection,
      publisher,
      service,
      sends,
      writerId,
      addAccount,
      addAccounts,
      adoptions,
      removeAccount,
      async close() {
        if (closed) return;
        closed = true;
        await service.stop().catch(() => undefined);
        await publisher.close();
        if (ownConnection) await nc.close();
      },
    };
  } catch (err) {
    if (ownConnection) await nc.close().catch(() => undefined);
    throw err;
  }
}
