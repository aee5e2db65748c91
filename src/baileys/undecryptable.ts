/**
 * Inbound messages Baileys could not decrypt. Baileys does not drop them: it upserts a
 * stub with `messageStubType` CIPHERTEXT (2), no `message`, and the error in
 * `messageStubParameters[0]` (Utils/decode-wa-message.js), after sending the sender a
 * retry receipt (Socket/messages-recv.js, sendRetryRequest; up to maxMsgRetryCount = 5).
 * When the re-encrypted copy decrypts, the same id is upserted again with its content.
 * Common since WhatsApp moved chats to LID addressing: "Bad MAC", "No session record",
 * "Invalid PreKey ID". Stubs with 'Key used already or never filled' are nacked without
 * a retry; 'Message absent from node' (no ciphertext at all) asks the phone for the
 * content instead (placeholder resend). Every kind is reported the same way.
 */
import type { WAMessage } from '@whiskeysockets/baileys';
import { preferPhoneJid } from './jid-prefer.js';

/** proto.WebMessageInfo.StubType.CIPHERTEXT */
const STUB_CIPHERTEXT = 2;

export interface UndecryptableMessage {
  waMessageId: string;
  from: string;
  chat: string;
  /** Baileys' error text (`Bad MAC`, `No session record`, …). */
  reason: string;
  /** ms since epoch (WhatsApp's own message time). */
  timestamp: number;
}

/** The CIPHERTEXT stub of a message from someone else, as a plain record; else undefined. */
export function toUndecryptable(m: WAMessage): UndecryptableMessage | undefined {
  const { key } = m;
  if (m.messageStubType !== STUB_CIPHERTEXT || m.message || key.fromMe || !key.id || !key.remoteJid) return undefined;
  const chat = preferPhoneJid(key.remoteJid, key.remoteJidAlt);
  const from = key.participant ? preferPhoneJid(key.participant, key.participantAlt) : chat;
  const ts = typeof m.messageTimestamp === 'number' ? m.messageTimestamp : Number(m.messageTimestamp ?? 0);
  const reason = String(m.messageStubParameters?.[0] ?? 'unknown').slice(0, 256);
  return { waMessageId: key.id, from, chat, reason, timestamp: ts * 1000 };
}

/** The few kinds `reason` falls into: a bounded metric label (the text itself is free-form). */
export type UndecryptableKind = 'bad_mac' | 'no_session' | 'invalid_prekey' | 'no_content' | 'key_used' | 'other';

export function undecryptableKind(reason: string): UndecryptableKind {
  const r = reason.toLowerCase();
  if (r.includes('bad mac')) return 'bad_mac';
  if (r.includes('no session') || r.includes('no matching session')) return 'no_session';
  if (r.includes('prekey')) return 'invalid_prekey';
  if (r.includes('absent from node')) return 'no_content';
  if (r.includes('key used already')) return 'key_used';
  return 'other';
}
