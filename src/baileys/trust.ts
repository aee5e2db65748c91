/**
 * Baileys checks the server's certificate chain against the root key in
 * `WA_CERT_DETAILS.PUBLIC_KEY`, a process-wide mutable export. Pointing it at another
 * root (the simulator's) makes this whole process accept that server instead of
 * WhatsApp, so it is an explicit option, never a default, and it is logged loudly.
 */
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { WaError } from '../contract/index.js';

/** Curve25519 public keys are 32 bytes. */
const ROOT_KEY_BYTES = 32;

export function trustServerRoot(publicKeyBase64: string, logger: Logger): void {
  const key = Buffer.from(publicKeyBase64, 'base64');
  if (key.length !== ROOT_KEY_BYTES || key.toString('base64') !== publicKeyBase64.trim()) {
    throw new WaError('bad_request', `trustServerRoot: expected the base64 of a ${ROOT_KEY_BYTES}-byte public key`);
  }
  WA_CERT_DETAILS.PUBLIC_KEY = key;
  logger.warn(
    { trustedRoot: publicKeyBase64 },
    'TRUSTING A NON-WHATSAPP CERTIFICATE ROOT: this process will only talk to the server holding that root (the simulator), never to WhatsApp',
  );
}
