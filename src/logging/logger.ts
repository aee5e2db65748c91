/**
 * The one pino root of a process. Secrets are redacted by path, where they live, not by
 * field names they happen to share with harmless data (`code` is a stream error's or an
 * error's code, which an operator needs). Accounts and connections get child loggers
 * (`child({ account })`, `child({ connectionId })`) from their owners.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

/** Key material, by the names Baileys' and libsignal's types give it (never anything else here), up to three levels deep. */
const KEY_MATERIAL = [
  'private',
  'privKey',
  'noiseKey',
  'signedIdentityKey',
  'signedPreKey',
  'advSecretKey',
  'pairingEphemeralKeyPair',
  // A media message's key (send.uploaded, message.in with media.download off, Baileys' media protos).
  'mediaKey',
];

export const REDACT_PATHS = [
  // Credentials: Baileys' AuthenticationCreds whole; its key store's writes (`{ keys }` at trace).
  'creds',
  '*.creds',
  'keys',
  ...KEY_MATERIAL.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  // Pairing secrets: the QR payload and the 8-character pairing code.
  'qr',
  '*.qr',
  'pairingCode',
  '*.pairingCode',
  // Message text: a send (command payload, `send.queued` event) and a WhatsApp message proto.
  'text',
  'event.text',
  'send.text',
  'payload.text',
  'message.conversation',
  'message.extendedTextMessage.text',
  '*.message.conversation',
  '*.message.extendedTextMessage.text',
  // Captions are message text too (media sends, inbound media).
  'caption',
  '*.caption',
  '*.*.caption',
  // Access: the HTTP token, NATS credentials, an Authorization header.
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
];
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
  const first = (args: unknown[]): string =>
    typeof args[0] === 'string' ? args[0] : '(non-text console output dropped)';
  console.log = (...args: unknown[]) => log.debug(first(args));
  console.info = (...args: unknown[]) => log.debug(first(args));
  console.debug = (...args: unknown[]) => log.debug(first(args));
  console.warn = (...args: unknown[]) => log.warn(first(args));
  console.error = (...args: unknown[]) => log.error(first(args));
}
