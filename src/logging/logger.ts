/**
 * The one pino root of a process. Message text, credentials, keys and QR payloads are
 * redacted wherever they appear one or two levels deep; accounts and connections get
 * child loggers (`child({ account })`, `child({ connectionId })`) from their owners.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

const SECRET_FIELDS = [
  'text',
  'qr',
  'code',
  'creds',
  'keys',
  'privKey',
  'private',
  'noiseKey',
  'signedIdentityKey',
  'signedPreKey',
  'advSecretKey',
  'pairingEphemeralKeyPair',
  'token',
  'authorization',
  'password',
];

export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
export const REDACTED = '[redacted]';

export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      name: options.name ?? 'wa-connd',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      base: { pid: process.pid },
    },
    destination,
  );
}

/**
 * libsignal (under Baileys) prints whole Signal sessions, private keys included, with
 * console.info/warn ("Closing session: …"). In a gateway those lines would land in the
 * logs; this routes console output through pino and keeps only the message string,
 * never the objects after it.
 */
export function guardConsole(logger: Logger): void {
  const log = logger.child({ source: 'console' });
  const first = (args: unknown[]): string => (typeof args[0] === 'string' ? args[0] : '(non-text console output dropped)');
  console.log = (...args: unknown[]) => log.debug(first(args));
  console.info = (...args: unknown[]) => log.debug(first(args));
  console.debug = (...args: unknown[]) => log.debug(first(args));
  console.warn = (...args: unknown[]) => log.warn(first(args));
  console.error = (...args: unknown[]) => log.error(first(args));
}
