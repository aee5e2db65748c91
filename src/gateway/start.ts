/**
 * The one composition root: config → NATS connection → runtime → NATS layer (event
 * stream, status view, commands) → HTTP (metrics, inspector, readiness) → accounts.
 * Everything that talks to the outside is created here and handed down; nothing below
 * reaches for a global or opens a connection of its own. The order is the one
 * docs/architecture.md ("Start-up order") gives.
 */
import type { Logger } from 'pino';
import QRCode from 'qrcode';
import { authStoresFor } from '../baileys/auth-stores.js';
import { trustServerRoot } from '../baileys/trust.js';
import { ensureNats, type NatsHandle } from '../bootstrap/nats.js';
import type { Config } from '../config/schema.js';
import { ReadinessTracker } from '../http/readiness.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import { InspectorHub, STATUS_REFRESH_MS } from '../inspect/hub.js';
import { statelyInspector } from '../inspect/stately.js';
import { createMetrics } from '../metrics/metrics.js';
import { startNatsLayer, type NatsLayer } from '../nats/layer.js';
import { Gateway } from '../runtime/gateway.js';
import { startLoopMonitor, type LoopMonitor } from '../runtime/loop-monitor.js';
import type { Fact } from '../runtime/port.js';
import { registerWebhookMetrics } from '../webhooks/metrics.js';
import { WebhookService } from '../webhooks/service.js';

export interface RunningGateway {
  config: Config;
  gateway: Gateway;
  layer: NatsLayer;
  nats: NatsHandle;
  loop: LoopMonitor;
  /** HTTP server (health, readiness, metrics, inspector, pairing page); `http.url` is where it listens. */
  http: HttpServer;
  /** Webhook endpoints delivering the event stream (docs/webhooks.md). */
  webhooks: WebhookService;
  /** Facts as they happen, for in-process observers (terminal QR, HTTP pages). */
  onFact(listener: (fact: Fact) => void): () => void;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Baileys' own logger (default: the account's logger at warn). Tests pass trace. */
  baileysLogger?: Logger;
}

export async function startGateway(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningGateway> {
  if (config.whatsapp.trustRootPublicKey) trustServerRoot(config.whatsapp.trustRootPublicKey, logger);
  const nats = await ensureNats(config, logger);
  // Where credentials live (auth.store): decided in auth-stores.ts, nowhere else.
  const auth = await authStoresFor(config, nats.nc, { logger }).catch(async (err: unknown) => {
    await nats.close().catch(() => undefined);
    throw err;
  });
  const loop = startLoopMonitor();
  const listeners = new Set<(fact: Fact) => void>();
  let layer: NatsLayer | null = null;
  let readiness: ReadinessTracker | null = null;
  // Loaded only when asked for: it talks to stately.ai.
  const stately = config.inspect ? await statelyInspector(logger) : null;
  let gatewayRef: Gateway | null = null;
  const onAuthFenced = (account: string) => (err: unknown) => {
    // A newer writer holds the account's keys: stop here, as with a fenced event write (layer.ts).
    logger.error({ account, err }, 'auth state taken over by another writer: this process stops the account');
    setImmediate(() => {
      try {
        if (gatewayRef?.has(account)) gatewayRef.disconnect(account);
      } catch (e) {
        logger.error({ account, err: e }, 'could not stop an account fenced off its auth state');
      }
    });
  };

  const gateway = new Gateway({
    sink: (fact) => {
      // The runtime has no account before `layer.addAccounts` (below, once the layer is
      // up), and only an account reports facts: so the layer is always there. Should
      // that ever change, the fact is not lost silently.
      if (layer) layer.sink(fact);
      else
        logger.error(
          { account: fact.account, type: fact.type },
          'a fact before the NATS layer was up (a bug): not recorded',
        );
      // Readiness follows the runtime's facts, so it is right while NATS is away.
      if (fact.type === 'transition') readiness?.observe(fact.account, fact.to, fact.from);
      for (const l of listeners) {
        try {
          l(fact);
        } catch (err) {
          logger.error({ err }, 'fact listener failed');
        }
      }
    },
    logger,
    loop,
    authFor: (account) => auth.open(account, { create: true, onFenced: onAuthFenced(account) }),
    defaults: config.defaults,
    ...(config.whatsapp.url ? { waWebSocketUrl: config.whatsapp.url } : {}),
    ...(stately ? { inspect: stately.hook } : {}),
    ...(options.baileysLogger ? { baileysLogger: options.baileysLogger } : {}),
  });

  gatewayRef = gateway;
  let http: HttpServer | null = null;
  let webhooks: WebhookService | null = null;
  let refresh: NodeJS.Timeout | undefined;
  try {
    // The configured accounts are announced: from the first command on, they answer `unavailable` until adopted.
    layer = await startNatsLayer({
      nc: nats.nc,
      accounts: gateway,
      logger,
      stream: config.stream,
      pending: config.accounts.map((a) => a.id),
      webhooks: () => webhooks ?? undefined,
    });
    const { projection, connected } = layer;
    const names = () => gateway.list().map((a) => a.account);
    // Pages and metrics read the layer's one status view and follow what it stored.
    const metrics = createMetrics({
      counters: layer.counters,
      projection,
      loop,
      accounts: names,
      natsConnected: connected,
    });
    const sink = layer.sink;
    // After the layer: the stream exists. Each endpoint resumes from its durable consumer.
    webhooks = await WebhookService.start({
      nc: nats.nc,
      logger,
      endpoints: config.webhooks.endpoints,
      allowPrivateAddresses: config.webhooks.allowPrivateAddresses,
      ackWaitMs: config.webhooks.ackWaitMs,
      observer: registerWebhookMetrics(metrics.registry, () => webhooks?.lag() ?? Promise.resolve([])),
      deadLetter: (fact) => {
        // Only the process writing an account may publish its events (fencing); another one records its own.
        if (gateway.has(fact.account)) sink(fact);
        else
          logger.warn(
            { account: fact.account, webhook: fact.endpoint, streamSeq: fact.streamSeq },
            'dead letter of an account this gateway does not run: not recorded on the stream',
          );
      },
    });
    const hub = new InspectorHub({
      projection,
      accounts: names,
      natsConnected: connected,
      webhooks: () => webhooks?.panels() ?? [],
    });
    layer.onStored((event) => {
      metrics.observe(event);
      hub.observe(event);
    });
    refresh = setInterval(() => hub.refresh(), STATUS_REFRESH_MS);
    refresh.unref();
    const ready = new ReadinessTracker({
      natsConnected: connected,
      enabled: config.accounts.filter((a) => a.connect).map((a) => a.id),
      accounts: () => gateway.list(),
    });
    readiness = ready;
    // Before the accounts, so pages and metrics see their first transitions.
    http = await startHttpServer({
      ...config.http,
      logger,
      registry: metrics.registry,
      hub,
      readiness: () => ready.check(),
      stateOf: (account) => (gateway.has(account) ? gateway.state(account) : undefined),
    });
    // Concurrently (ADOPT_CONCURRENCY at a time): one slow takeover must not hold up the others.
    await layer.addAccounts(
      config.accounts.map(({ id, connect, ...settings }) => ({ account: id, options: { ...settings, connect } })),
    );
  } catch (err) {
    clearInterval(refresh);
    await webhooks?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    stately?.stop();
    loop.stop();
    await gateway.close().catch(() => undefined);
    await layer?.close().catch(() => undefined);
    await nats.close().catch(() => undefined);
    throw err;
  }

  const running: RunningGateway = {
    config,
    gateway,
    layer,
    nats,
    loop,
    http,
    webhooks,
    onFact: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      // First: what it holds goes back to its consumer while the connection is still up.
      await webhooks.close();
      await gateway.close();
      clearInterval(refresh);
      await http.close();
      stately?.stop();
      await layer.close();
      loop.stop();
      await nats.close();
    },
  };
  return running;
}

/** Shows each QR in the terminal (stderr, so stdout stays JSON logs) with what to do. */
export function printQrCodes(running: RunningGateway, out: NodeJS.WritableStream = process.stderr): () => void {
  return running.onFact((fact) => {
    if (fact.type === 'qr') {
      void QRCode.toString(fact.qr, { type: 'terminal', small: true }).then((art) => {
        out.write(
          `\nAccount "${fact.account}" is not paired. On the phone: WhatsApp → Settings → Linked devices → Link a device, and scan:\n${art}\n` +
            `(or pair with a code: wa-connd pair ${fact.account} --phone <number>)\n\n`,
        );
      });
    }
    if (fact.type === 'paired') out.write(`Account "${fact.account}" is paired${fact.jid ? ` as ${fact.jid}` : ''}.\n`);
  });
}
