/**
 * The `WA_EVENTS` stream: its settings, and creating or updating it at start. The
 * settings are the operator's (retention and size vary with the fleet); the subjects,
 * storage and name are the contract's and not configurable.
 */
import {
  type JetStreamManager,
  type StreamConfig,
  StorageType,
  DiscardPolicy,
  RetentionPolicy,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { EVENTS_STREAM, evtFilter, WaError } from '../contract/index.js';

const MS_PER_DAY = 24 * 60 * 60 * 1000;

export type StreamSettings = {
  /**
   * Events older than this are removed. It is also the idempotency horizon of `send`
   * (the index is rebuilt from the stream) and how far back a restart can recover an
   * outbox. 30 days: a month of history to explain an incident, a few hundred MB for
   * a busy account.
   */
  maxAgeMs: number;
  /** Whole stream; oldest events go first. 1 GiB keeps a small VM's disk safe. */
  maxBytes: number;
  /**
   * `Nats-Msg-Id` dedupe window. It must outlast the longest NATS outage the offline
   * buffer bridges, because a buffered event is retried under the same id when NATS
   * returns. 1 h; past it the publisher still recognises its own stored event by
   * reading the subject's last message (docs/architecture.md, "Msg ids").
   */
  duplicateWindowMs: number;
  /** 1 for one server; 3 in the clustered setup (R3). */
  replicas: number;
  /**
   * Liveness events (`transition`, `keepalive`, `qr`; src/contract/retention.ts) kept per
   * account and type: the writer trims each such subject to its last this-many
   * (liveness-trim.ts). 1,000: ~40 min of transitions and ~2 h of keepalives of an
   * account doing nothing but keepalives (24 and 8 a minute), and at most ~0.8 MiB per
   * account (1.5 × 1,000 × 2 types × ~280 B), ~400 MiB for 500 accounts, whatever their
   * keepalive rate.
   */
  livenessPerSubject: number;
};

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  maxAgeMs: 30 * MS_PER_DAY,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 60 * 60 * 1000,
  replicas: 1,
  livenessPerSubject: 1_000,
};

/**
 * How long a send id is remembered (idempotency) and an outbox can be rebuilt: the age
 * limit of `WA_EVENTS`. Keepalives cannot shorten it: liveness is trimmed by count per
 * account, so it takes a bounded share of the byte limit; only records beyond the rest
 * (sends and inbound messages) push the oldest out before `maxAgeMs`.
 */
export function idempotencyWindowMs(settings: Pick<StreamSettings, 'maxAgeMs'>): number {
  return settings.maxAgeMs;
}

/** The oldest server the fencing scheme was verified on (test/nats/fencing.int.test.ts). */
export const MIN_SERVER_VERSION = [2, 9, 0] as const;

export function streamConfig(
  settings: StreamSettings,
): Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'max_age' | 'max_bytes' | 'duplicate_window' | 'num_replicas'> {
  return {
    name: EVENTS_STREAM,
    subjects: [evtFilter()],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    duplicate_window: nanos(settings.duplicateWindowMs),
    num_replicas: settings.replicas,
    // Fence markers are header-only; events are JSON bodies. Both must be kept.
    allow_direct: false,
  };
}

/**
 * Creates `WA_EVENTS`, or brings an existing one to the configured limits. Subjects
 * and storage are not changed on an existing stream: a stream with other subjects
 * is someone else's, and storage cannot be changed in place.
 */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings, logger: Logger): Promise<void> {
  const config = streamConfig(settings);
  const existing = await jsm.streams.info(EVENTS_STREAM).catch((err: unknown) => {
    if (err instanceof Error && 'code' in err && (err as { code: unknown }).code === 10059) return null;
    throw err;
  });
  if (!existing) {
    await jsm.streams.add(config);
    logger.info(
      { stream: EVENTS_STREAM, settings, idempotencyWindowMs: idempotencyWindowMs(settings) },
      'event stream created',
    );
    return;
  }
  const subjects = existing.config.subjects ?? [];
  if (!subjects.includes(evtFilter())) {
    throw new WaError('internal', `stream ${EVENTS_STREAM} exists without subject ${evtFilter()}: refusing to use it`);
  }
  const { max_age, max_bytes, duplicate_window, num_replicas } = config;
  await jsm.streams.update(EVENTS_STREAM, { ...existing.config, max_age, max_bytes, duplicate_window, num_replicas });
  logger.info(
    { stream: EVENTS_STREAM, settings, idempotencyWindowMs: idempotencyWindowMs(settings) },
    'event stream updated',
  );
}

/** `2.9.10` → [2, 9, 10]; anything unparsable compares as 0.0.0. */
export function parseVersion(version: string | undefined): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * The brief asks to check `nc.info.version` at start: below 2.9 the fencing scheme is
 * unverified, so refuse; 2.11+ would allow the one-header fence, which is logged as
 * available but not used (the marker scheme stays correct there).
 */
export function checkServerVersion(nc: NatsConnection, logger: Logger): string {
  const version = nc.info?.version ?? 'unknown';
  if (!atLeast(parseVersion(version), MIN_SERVER_VERSION)) {
    throw new WaError(
      'unavailable',
      `nats-server ${version} is too old: ${MIN_SERVER_VERSION.join('.')} or newer is required`,
    );
  }
  const wildcardExpectations = atLeast(parseVersion(version), [2, 11, 0]);
  logger.info({ natsServer: version, wildcardExpectations }, 'connected to nats-server');
  return version;
}
