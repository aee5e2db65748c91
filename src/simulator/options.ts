// Options of startSimulator(), with their defaults.
import type { Logger } from 'pino';
import type { UnknownAccountPolicy } from './session/context.js';

export interface SimulatorOptions {
  /** WebSocket port; 0 (default) picks a free one. */
  wsPort?: number;
  /** Control API port; 0 (default) picks a free one. */
  httpPort?: number;
  /** Media (https) port; 0 (default) picks a free one. */
  mediaPort?: number;
  /** Interface both listen on. Loopback by default: the control API has no auth. */
  host?: string;
  /** Derives the certificate root (and server keys) from this string, so two processes
   * given the same seed agree on the root public key. Random when absent. */
  seed?: string;
  /** Multiplies policy timers (idle timeout, recycle): 0.002 runs 16 min in ~1.9 s. */
  timeScale?: number;
  /** pino logger; silent by default. Message text and keys are never logged. */
  logger?: Logger;
  /** Logins from devices the simulator does not know: 'register' (default) accepts them
   * (handy after a simulator restart), 'reject' answers `<failure reason=401>`. */
  unknownAccounts?: UnknownAccountPolicy;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TIME_SCALE = 1;
