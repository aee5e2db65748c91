/**
 * Every way a CLI command ends, mapped to one exit code and one message on stderr.
 */
import { CommanderError } from 'commander';
import { isTransportError, isWaError } from '../client/index.js';
import { NatsUnavailableError } from '../bootstrap/nats.js';
import { ConfigError } from '../config/load.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** A bad argument value found after commander's own checks. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What a command waits for after the gateway's reply did not happen in time; not the user's mistake. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export function exitCodeOf(err: unknown): { code: ExitCode; message: string | null } {
  if (err instanceof CommanderError) {
    const help =
      err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
    // commander has printed its own message already.
    return { code: help ? EXIT.ok : EXIT.usage, message: null };
  }
  if (err instanceof UsageError) return { code: EXIT.usage, message: `error: ${err.message}` };
  if (err instanceof WaitTimeoutError) return { code: EXIT.timedOut, message: `timeout: ${err.message}` };
  if (err instanceof ConfigError) return { code: EXIT.usage, message: err.message };
  if (err instanceof NatsUnavailableError) return { code: EXIT.natsUnreachable, message: err.message };
  if (isTransportError(err, 'nats_unreachable'))
    return { code: EXIT.natsUnreachable, message: `${err.code}: ${err.message}` };
  if (isTransportError(err)) return { code: EXIT.noGateway, message: `${err.code}: ${err.message}` };
  if (isWaError(err)) return { code: EXIT.failed, message: `${err.code}: ${err.message}` };
  return { code: EXIT.failed, message: `internal: ${err instanceof Error ? err.message : String(err)}` };
}
