/**
 * The composition root's lease part (docs/scaling.md): with `lease.enabled`, the
 * configured accounts are not all run here; each runs where its lease in `WA_OWNERS`
 * says. This file connects the `LeaseManager` (who owns what) to the NATS layer (fence,
 * rebuild, handoff) and records the ownership events:
 *
 * - acquired → the layer fences and rebuilds the account, `owner.lost` (when the
 *   previous owner's lease had expired) and `owner.acquired` are recorded, then the
 *   runtime gets the account and connects;
 * - release (SIGTERM, rebalancing) → drained, `owner.released`, then the lease is marked released;
 * - lost → stopped at once, nothing recorded (the next owner records `owner.lost`).
 *
 * A 440 right after a takeover reconnects once (src/lease/handoff-440.ts).
 */
import { hostname } from 'node:os';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Handoff440 } from '../lease/handoff-440.js';
import { LeaseManager } from '../lease/lease-manager.js';
import { OWNERS_BUCKET } from '../lease/lease-record.js';
import type { NatsLayer } from '../nats/layer.js';
import { retrySetup } from '../nats/setup-retry.js';
import type { Location } from '../nats/command-routing.js';
import { systemClock } from '../runtime/clock.js';
import type { AccountsPort, Fact } from '../runtime/port.js';

export type LeaseWiring = {
  manager: LeaseManager;
  /** For the command router: where an account runs. */
  locate(account: string): Location;
  /** Every runtime fact passes here (the 440 rule above). */
  observe(fact: Fact): void;
  /** SIGTERM: release every account (drained), remove this process from the bucket. */
  shutdown(): Promise<void>;
};

export async function wireLeases(o: {
  nc: NatsConnection;
  config: Config;
  layer: () => NatsLayer;
  accounts: AccountsPort;
  writerId: string;
  logger: Logger;
}): Promise<LeaseWiring> {
  const { config, writerId } = o;
  const settings = new Map(config.accounts.map(({ id, ...rest }) => [id, rest]));
  const log = o.logger.child({ component: 'lease' });
  const kv = await retrySetup(
    OWNERS_BUCKET,
    () => new Kvm(o.nc).create(OWNERS_BUCKET, { history: 1, replicas: config.stream.replicas ?? 1 }),
    log,
  );
  const replaced = new Handoff440();

  const manager = new LeaseManager({
    kv,
    writerId,
    accounts: config.accounts.map((a) => a.id),
    maxAccounts: config.lease.maxAccounts,
    ttlMs: config.lease.ttlMs,
    rebalanceEveryMs: config.lease.rebalanceEveryMs,
    clock: systemClock,
    logger: log,
    hooks: {
      start: async (account, previous) => {
        const layer = o.layer();
        await layer.addAccount(account, settings.get(account) ?? {}, () => {
          if (previous?.expired) layer.sink({ account, type: 'owner.lost', writer: previous.writer, by: writerId });
          layer.sink({
            account,
            type: 'owner.acquired',
            writer: writerId,
            host: hostname(),
            pid: process.pid,
            ...(previous ? { previous: previous.writer } : {}),
          });
        });
        replaced.acquired(account, Date.now());
      },
      release: (account, reason) =>
        o.layer().releaseAccount(account, { account, type: 'owner.released', writer: writerId, reason }),
      lost: (account, why) => {
        replaced.gone(account);
        void o
          .layer()
          .dropAccount(account, why)
          .catch((err: unknown) => log.error({ err, account }, 'stopping a lost account failed'));
      },
    },
  });

  return {
    manager,
    locate(account) {
      // Here: it runs here, or it is no account of this deployment (then `unknown_account` is the answer).
      if (o.layer().adoptions.isLocal(account) || !settings.has(account)) return { at: 'here' };
      const owner = manager.book.owner(account, systemClock.now());
      return owner && owner !== writerId && owner !== 'unknown' ? { at: 'owner', writer: owner } : { at: 'none' };
    },
    observe(fact) {
      if (fact.type !== 'transition' || fact.statusCode !== 440 || fact.to !== 'stopped') return;
      if (replaced.onReplaced(fact.account, Date.now()) === 'stop') return;
      log.warn({ account: fact.account }, '440 right after a takeover: the old owner’s socket; reconnecting once');
      try {
        o.accounts.connect(fact.account);
      } catch (err) {
        log.error({ err, account: fact.account }, 'reconnect after a handoff 440 failed');
      }
    },
    shutdown: () => manager.shutdown(),
  };
}
