/**
 * `startNatsLayer`: everything on the NATS side of the runtime port, wired in the
 * order docs/architecture.md gives:
 * 1. take the caller's connection (the composition root opens it), check the server version;
 * 2. create or update `WA_EVENTS`;
 * 3. take over the runtime's accounts: fence markers, then rebuild the projections;
 * 4. recover: hand each account's outbox to the runtime, in order;
 * 5. start the command service.
 * Wiring for the composition root: construct the runtime with a sink that forwards to
 * `layer.sink` (facts emitted before the layer is up wait in the publisher once it is),
 * then add accounts with `layer.addAccount` so each is fenced, rebuilt and recovered
 * before it runs. Observers read `projection` (the one status view) and follow
 * `onStored` (every event this process stored). Accounts the runtime already has at start are taken over and
 * recovered here.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Service } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { assertAccountId, type AccountState, type WaEvent } from '../contract/index.js';
import type { AccountOptions, AccountsPort, Fact, FactSink } from '../runtime/port.js';
import { ADOPT_CONCURRENCY, Adoptions, inPool } from './adoption.js';
import type { CommandRouter } from './command-routing.js';
import { type CommandServiceOptions, startCommandService } from './command-service.js';
import { watchConnection } from './connection-status.js';
import { EventCounters, registerEventMetrics } from './counters.js';
import { EventPublisher, PUBLISHER_DEFAULTS } from './event-publisher.js';
import { dropAccount, releaseAccount } from './handoff.js';
import { LivenessTrim } from './liveness-trim.js';
import { DEFAULT_MEDIA_SETTINGS, ensureMediaBucket, type MediaBucketSettings } from '../media/bucket.js';
import type { FetchLimits } from '../media/fetch-url.js';
import { ObjectMediaPort } from '../media/port.js';
import { DEFAULT_URL_LIMITS, ObjectMediaResolver } from '../media/resolver.js';
import type { MediaPort } from '../runtime/port.js';
import { Projection } from './projection.js';
import { retrySetup } from './setup-retry.js';
import { Sends } from './sends.js';
import { checkServerVersion, DEFAULT_STREAM_SETTINGS, ensureStream, type StreamSettings } from './stream.js';

/** How long a `send` waits for its `send.queued` ack; well inside a client's usual 10 s request timeout. */
export const RECORD_TIMEOUT_MS = 5_000;
/** logout, pair and accounts.add wait on WhatsApp; past this the client gets `timeout`. */
export const CALL_TIMEOUT_MS = 8_000;

/** The state the runtime adds an account in (the machine's initial state; it reports no transition into it). */
const ADDED_STATE: AccountState = 'stopped';

export type NatsLayerOptions = {
  /** An open connection; the caller closes it after `close()`. */
  nc: NatsConnection;
  accounts: AccountsPort;
  logger: Logger;
  /** Fencing epoch; a fresh random one per start when omitted. `[A-Za-z0-9_-]{1,64}`. */
  writerId?: string;
  stream?: Partial<StreamSettings>;
  /** The `WA_MEDIA` bucket's limits and how media URLs are fetched. */
  media?: Partial<MediaBucketSettings> & { url?: Partial<FetchLimits> };
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
  /** The webhook endpoints, once started (after the layer): `wa.cmd.webhooks.<verb>`. */
  webhooks?: CommandServiceOptions['webhooks'];
  /** With leases: where an account runs, for commands that reach a process not owning it. */
  locate?: CommandRouter['locate'];
};

export type NatsLayer = {
  sink: FactSink;
  counters: EventCounters;
  /** The one status view of every account: `status`, the inspector and `/metrics` read it. */
  projection: Projection;
  publisher: EventPublisher;
  /** Every event this process stored, in per-account order (see `EventPublisher.onStored`). */
  onStored(listener: (event: WaEvent) => void): () => void;
  /** The NATS connection is up (not disconnected, reconnecting or closed). */
  connected(): boolean;
  service: Service;
  /** The send path: decisions, hand-over to the runtime, outbox recovery. */
  sends: Sends;
  /** `WA_MEDIA` for the runtime: media sends' bytes, received media. */
  media: MediaPort;
  writerId: string;
  /**
   * Takes the account over (fence + rebuild), adds it to the runtime, hands it its outbox.
   * `fenced` runs right after the fence and rebuild, before the runtime has the account
   * (the lease wiring records `owner.*` there).
   */
  addAccount(account: string, options?: AccountOptions, fenced?: () => void): Promise<void>;
  /** Handoff to another process (handoff.ts): drain, flush, record `last`, stop writing. */
  releaseAccount(account: string, last?: Fact): Promise<void>;
  /** The lease was lost: stop the account at once (handoff.ts). */
  dropAccount(account: string, why: string): Promise<void>;
  /**
   * `addAccount` for each, `ADOPT_CONCURRENCY` at a time, so a slow takeover holds up
   * no other account. Settles when all have; rejects with the first failure, if any.
   */
  addAccounts(list: readonly { account: string; options?: AccountOptions }[]): Promise<void>;
  /** Which accounts commands may use, and which are still being adopted. */
  adoptions: Adoptions;
  /** Removes it from the runtime and fails what it still had queued (`send.failed`). */
  removeAccount(account: string): Promise<void>;
  /** Stops the service and publishes what it can (bounded); the connection stays open. */
  close(): Promise<void>;
};

/** A fresh fencing epoch: `w` and 12 random letters and digits (a valid KV key token and msg id part). */
export function newWriterId(): string {
  return `w${randomBytes(9)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
}

export async function startNatsLayer(options: NatsLayerOptions): Promise<NatsLayer> {
  const { accounts, logger } = options;
  const { nc } = options;
  const writerId = options.writerId ?? newWriterId();
  const log = logger.child({ writerId });
  const connection = watchConnection(nc);
  try {
    checkServerVersion(nc, log);
    const jsm = await retrySetup('JetStream', () => jetstreamManager(nc), log);
    const settings = { ...DEFAULT_STREAM_SETTINGS, ...options.stream };
    await retrySetup('WA_EVENTS', () => ensureStream(jsm, settings, log), log);
    const js = jetstream(nc);
    const { url: urlLimits, ...bucket } = options.media ?? {};
    const mediaStore = await retrySetup(
      'WA_MEDIA',
      () => ensureMediaBucket(js, jsm, { ...DEFAULT_MEDIA_SETTINGS, ...bucket }, log),
      log,
    );
    const mediaPort = new ObjectMediaPort(mediaStore);

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
    // Liveness is trimmed per account and type as it is stored (docs/architecture.md, "Retention classes").
    const trim = new LivenessTrim({ jsm, keep: settings.livenessPerSubject, counters, logger: log });
    publisher.onStored((event) => trim.stored(event));
    const adoptions = new Adoptions(accounts, (account) => publisher.takeoverFailures(account));
    adoptions.announce(options.pending ?? []);
    const sends = new Sends({
      accounts,
      adoptions,
      publisher,
      projection,
      media: new ObjectMediaResolver(mediaStore, { ...DEFAULT_URL_LIMITS, ...urlLimits }, (ref, bytes) =>
        mediaPort.prefetch(ref, bytes),
      ),
      logger: log,
      recordTimeoutMs: options.recordTimeoutMs ?? RECORD_TIMEOUT_MS,
    });

    const recover = (account: string) => {
      const r = sends.recover(account);
      if (r.submitted || r.expired) log.child({ account }).info(r, 'outbox recovered from WA_EVENTS');
    };
    const running = accounts.list();
    const initial = running.map((a) => a.account);
    await publisher.adopt(initial);
    // An account the stream knows nothing of is in the state the runtime has it in, from now.
    for (const { account, state } of running)
      if (projection.view(account).state === null) projection.started(account, state, new Date().toISOString());
    for (const account of initial) recover(account);

    const addAccount = async (account: string, opts: AccountOptions = {}, fenced?: () => void) => {
      // A bad id would fail every takeover attempt forever: refuse it here (bad_request, with why).
      assertAccountId(account);
      if (accounts.has(account)) return;
      await adoptions.run(account, async () => {
        await publisher.adopt([account]);
        fenced?.();
        // Before the runtime has it: its first facts (connecting, …) follow this one.
        projection.started(account, ADDED_STATE, new Date().toISOString());
        await accounts.add(account, opts);
        recover(account);
      });
    };
    const addAccounts = async (list: readonly { account: string; options?: AccountOptions }[]) => {
      const results = await inPool(list, ADOPT_CONCURRENCY, (a) => addAccount(a.account, a.options));
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ account: list[i]?.account, err: r.reason as unknown }] : [],
      );
      for (const f of failed) log.child({ account: f.account }).error({ err: f.err }, 'could not add the account');
      if (failed[0]) throw failed[0].err;
    };
    const removeAccount = async (account: string) => {
      await accounts.remove(account);
      const failed = sends.failOutbox(account, 'the account was removed before this send was confirmed');
      log.child({ account }).info({ failedSends: failed }, 'account removed');
    };

    const handoff = { accounts, adoptions, sends, publisher, logger: log };
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
      ...(options.webhooks ? { webhooks: options.webhooks } : {}),
      ...(options.locate ? { router: { writerId, locate: options.locate } } : {}),
    });

    let closed = false;
    return {
      sink: publisher.sink,
      counters,
      projection,
      publisher,
      onStored: (listener) => publisher.onStored(listener),
      connected: () => connection.connected(),
      service,
      sends,
      media: mediaPort,
      writerId,
      addAccount,
      addAccounts,
      releaseAccount: (account, last) => releaseAccount(handoff, account, last),
      dropAccount: (account, why) => dropAccount(handoff, account, why),
      adoptions,
      removeAccount,
      async close() {
        if (closed) return;
        closed = true;
        await service.stop().catch(() => undefined);
        await publisher.close();
        await trim.close();
        connection.close();
      },
    };
  } catch (err) {
    connection.close();
    throw err;
  }
}
