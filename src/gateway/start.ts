/**
 * The composition root: config → logger → NATS → runtime → NATS layer → accounts.
 * Everything that talks to the outside is created here and handed down; nothing below
 * reaches for a global.
 */
import type { Logger } from 'pino';
import QRCode from 'qrcode';
import { openAuthStore } from '../baileys/auth-store.js';
import { trustServerRoot } from '../baileys/trust.js';
import { ensureNats, type NatsHandle } from '../bootstrap/nats.js';
import type { Config } from '../config/schema.js';
import { startObservability, type Observability } from '../http/observability.js';
import { statelyInspector } from '../inspect/stately.js';
import { startNatsLayer, type NatsLayer } from '../nats/layer.js';
import { Gateway } from '../runtime/gateway.js';
import { startLoopMonitor, type LoopMonitor } from '../runtime/loop-monitor.js';
import type { Fact } from '../runtime/port.js';

export interface RunningGateway {
  config: Config;
  gateway: Gateway;
  layer: NatsLayer;
  nats: NatsHandle;
  loop: LoopMonitor;
  /** HTTP server (health, readiness, metrics, inspector, pairing page); `http.url` is where it listens. */
  http: Observability;
  /** Facts as they happen, for in-process observers (terminal QR, HTTP pages). */
  onFact(listener: (fact: Fact) => void): () => void;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Baileys' own logger (default: the account's logger at warn). Tests pass trace. */
  baileysLogger?: Logger;
}

export async function startGateway(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningGateway> {
  if (config.whatsapp.trustRootPublicKey) trustServerRoot(config.whatsapp.trustRootPublicKey, logger);
  const nats = await ensureNats(config, logger);
  const loop = startLoopMonitor();
  const listeners = new Set<(fact: Fact) => void>();
  let layer: NatsLayer | null = null;
  const early: Fact[] = [];
  let observability: Observability | null = null;
  // Loaded only when asked for: it talks to stately.ai.
  const stately = config.inspect ? await statelyInspector(logger) : null;

  const gateway = new Gateway({
    // Facts emitted before the layer is up (none in practice: accounts are added after)
    // wait here in order rather than being lost.
    sink: (fact) => {
      if (layer) layer.sink(fact);
      else early.push(fact);
      observability?.fact(fact);
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
    authFor: (account) => openAuthStore(config.dataDir, account),
    defaults: config.defaults,
    ...(config.whatsapp.url ? { waWebSocketUrl: config.whatsapp.url } : {}),
    ...(stately ? { inspect: stately.hook } : {}),
    ...(options.baileysLogger ? { baileysLogger: options.baileysLogger } : {}),
  });

  try {
    // The configured accounts are announced: from the first command on, they answer `unavailable` until adopted.
    layer = await startNatsLayer({ nc: nats.nc, accounts: gateway, logger, stream: config.stream, pending: config.accounts.map((a) => a.id) });
    for (const fact of early.splice(0)) layer.sink(fact);
    // Before the accounts, so pages and metrics see their first transitions.
    observability = await startObservability({ config, logger, nc: nats.nc, gateway, layer, loop });
    // Concurrently (ADOPT_CONCURRENCY at a time): one slow takeover must not hold up the others.
    await layer.addAccounts(config.accounts.map(({ id, connect, ...settings }) => ({ account: id, options: { ...settings, connect } })));
  } catch (err) {
    await observability?.close().catch(() => undefined);
    stately?.stop();
    loop.stop();
    await gateway.close().catch(() => undefined);
    await nats.close().catch(() => undefined);
    throw err;
  }

  const running: RunningGateway = {
    config,
    gateway,
    layer,
    nats,
    loop,
    http: observability,
    onFact: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      await gateway.close();
      await observability?.close();
      stately?.stop();
      await layer?.close();
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
