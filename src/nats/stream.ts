/**
 * The event streams, `WA_EVENTS` (records) and `WA_LIVENESS` (transitions, keepalives,
 * QRs; src/contract/retention.ts): their settings, and creating, updating or migrating
 * them at start. The settings are the operator's (retention and size vary with the
 * fleet); the subjects, storage and names are the contract's and not configurable.
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
import {
  classSubjects,
  EVENTS_STREAM,
  LEGACY_EVENTS_SUBJECT,
  LIVENESS_STREAM,
  WaError,
} from '../contract/index.js';

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
   * `WA_LIVENESS` keeps this many messages per subject (per account and liveness type),
   * and no age limit: the last transition of every account survives, however quiet it
   * has been (status rebuild), and the last message of each subject is what the fence
   * expectations check (an aged-out subject would fence its own writer). 5,000: about
   * 3.5 h of transitions and 10 h of keepalives of an account doing nothing but
   * keepalives (24 and 8 a minute), ~3 MB per account.
   */
  livenessPerSubject: number;
};

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  maxAgeMs: 30 * MS_PER_DAY,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 60 * 60 * 1000,
  replicas: 1,
  livenessPerSubject: 5_000,
};

/**
 * How long a send id is remembered (idempotency) and an outbox can be rebuilt: the age
 * limit of `WA_EVENTS`, which only records share. Its byte limit can shorten it only by
 * record traffic (sends and inbound messages), never by keepalives.
 */
export function idempotencyWindowMs(settings: Pick<StreamSettings, 'maxAgeMs'>): number {
  return settings.maxAgeMs;
}

/** The oldest server the fencing scheme was verified on (test/nats/fencing.int.test.ts). */
export const MIN_SERVER_VERSION = [2, 9, 0] as const;

type CreatedConfig = Partial<StreamConfig> &
  Pick<StreamConfig, 'name' | 'subjects' | 'max_age' | 'max_bytes' | 'duplicate_window' | 'num_replicas'>;

/** `WA_EVENTS`: records, by age and size. */
export function streamConfig(settings: StreamSettings): CreatedConfig {
  return {
    name: EVENTS_STREAM,
    subjects: classSubjects('records'),
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

/** `WA_LIVENESS`: the last `livenessPerSubject` of each subject, no age or byte limit (see StreamSettings). */
export function livenessStreamConfig(settings: StreamSettings): CreatedConfig {
  return {
    name: LIVENESS_STREAM,
    subjects: classSubjects('liveness'),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: 0,
    max_bytes: -1,
    max_msgs_per_subject: settings.livenessPerSubject,
    duplicate_window: nanos(settings.duplicateWindowMs),
    num_replicas: settings.replicas,
    allow_direct: false,
  };
}

async function streamInfo(jsm: JetStreamManager, name: string) {
  return jsm.streams.info(name).catch((err: unknown) => {
    if (err instanceof Error && 'code' in err && (err as { code: unknown }).code === 10059) return null;
    throw err;
  });
}

/** Ours: `wa.evt.>` (before the split) or `wa.evt.*.<type>` subjects only. */
function ownSubjects(subjects: readonly string[]): boolean {
  return subjects.every((s) => s === LEGACY_EVENTS_SUBJECT || /^wa\.evt\.\*\.[a-z_.]+$/.test(s));
}

/**
 * Creates both streams, or brings existing ones to the configured limits and the
 * current catalog's subjects. `WA_EVENTS` first: before the split it captured
 * `wa.evt.>`, which overlaps `WA_LIVENESS`; narrowing its subjects keeps every
 * message it holds (records keep their retention; the liveness events in it age out
 * with them), and only then can `WA_LIVENESS` take the liveness subjects. A stream
 * with subjects that are not ours is someone else's: refused. Storage is not changed
 * on an existing stream (it cannot be changed in place).
 */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings, logger: Logger): Promise<void> {
  for (const config of [streamConfig(settings), livenessStreamConfig(settings)]) {
    const existing = await streamInfo(jsm, config.name);
    if (!existing) {
      await jsm.streams.add(config);
      logger.info({ stream: config.name, settings }, 'event stream created');
      continue;
    }
    const subjects = existing.config.subjects ?? [];
    if (!ownSubjects(subjects)) {
      throw new WaError(
        'internal',
        `stream ${config.name} exists with subjects that are not wa-connd's (${subjects.join(', ')}): refusing to use it`,
      );
    }
    const migrated = subjects.includes(LEGACY_EVENTS_SUBJECT);
    const { max_age, max_bytes, duplicate_window, num_replicas } = config;
    await jsm.streams.update(config.name, {
      ...existing.config,
      subjects: config.subjects,
      max_age,
      max_bytes,
      duplicate_window,
      num_replicas,
      ...(config.max_msgs_per_subject !== undefined ? { max_msgs_per_subject: config.max_msgs_per_subject } : {}),
    });
    if (migrated)
      logger.warn(
        { stream: config.name, from: subjects, to: config.subjects, messages: existing.state.messages },
        `${config.name} migrated: it keeps records only from now on (liveness goes to ${LIVENESS_STREAM}); nothing it held was removed`,
      );
    else logger.info({ stream: config.name, settings }, 'event stream updated');
  }
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
