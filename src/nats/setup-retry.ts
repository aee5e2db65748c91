/**
 * Creating or updating a stream or bucket at start, retried. In a cluster every such
 * step is a proposal to the JetStream meta leader and, for an R3 stream, an election of
 * the stream's own group: under load that outlasts the 5 s request timeout, and while a
 * meta leader is being elected the API answers "temporarily unavailable". Gateways
 * starting together also race to create the same stream. Every step here is idempotent
 * (look up, then add or update to the same config), so it is simply tried again until
 * `SETUP_DEADLINE_MS`; only then does the start fail (exit 6, docs/cli.md).
 */
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import { systemClock } from '../runtime/clock.js';

/** How long start-up keeps retrying one setup step before giving up. */
export const SETUP_DEADLINE_MS = 120_000;
/** Pause between two tries: the meta leader is busy, do not add to its queue. */
const SETUP_RETRY_PAUSE_MS = 1_000;

/** JetStream API codes worth another try: 10008 temporarily unavailable, 10058 name in use (a racing create). */
const RETRY_CODES = new Set([10008, 10058]);

/** A timeout, no responders for the API (no meta leader yet), or a retryable API error. */
export function isTransientSetupError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'NoRespondersError') return true;
  // A request error wraps the timeout or the missing responder as its cause.
  if (err.cause !== undefined && isTransientSetupError(err.cause)) return true;
  const code = (err as { code?: unknown }).code;
  return err.name === 'JetStreamApiError' && typeof code === 'number' && RETRY_CODES.has(code);
}

/** What a publish throws when nothing answers for the stream (nats.js names it JetStreamNotEnabled). */
function isNoStreamLeader(err: unknown): boolean {
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}

/**
 * A write to a stream known to exist that may succeed if tried again: a timeout, or no
 * leader for the stream's group (after a node loss an R3 group re-elects within seconds).
 */
export function isTransientWriteError(err: unknown): boolean {
  return isTransientSetupError(err) || isNoStreamLeader(err);
}

export async function retrySetup<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger | undefined,
  o: {
    deadlineMs?: number;
    clock?: Clock;
    /**
     * The step writes to a stream this process has just created or opened: "JetStream
     * not enabled" then means no responder for the publish (its R3 group has no leader
     * yet), not a server without JetStream.
     */
    streamExists?: boolean;
  } = {},
): Promise<T> {
  const clock = o.clock ?? systemClock;
  const giveUpAt = clock.now() + (o.deadlineMs ?? SETUP_DEADLINE_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const transient = isTransientSetupError(err) || (o.streamExists === true && isNoStreamLeader(err));
      if (!transient || clock.now() >= giveUpAt) throw err;
      logger?.warn({ err, what, attempt }, 'JetStream setup step failed transiently; retrying');
      await new Promise<void>((resolve) => clock.after(SETUP_RETRY_PAUSE_MS, resolve));
    }
  }
}
