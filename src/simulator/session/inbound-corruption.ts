// The `undecryptableInbound` fault: a contact's message whose ciphertext the account
// cannot decrypt. One byte of the message's MAC is flipped, so libsignal on the client
// fails with "Bad MAC" — the commonest decryption failure in the field — and Baileys asks
// for the message again with a retry receipt (retry-receipt.ts), whose answer is intact.
// The sender's ratchet has moved on as if the message had been fine, as with a real loss.
import { createRequire } from 'node:module';
import type { BinaryNode } from '../wa.js';
import { getBinaryNodeChild } from '../wa.js';
import type { Connection } from './connection.js';

interface ProtoCodec {
  decode(bytes: Uint8Array): { message: Uint8Array } & Record<string, unknown>;
  encode(message: Record<string, unknown>): { finish(): Uint8Array };
}
// libsignal's own protobuf codecs (not exported by its index).
const { PreKeyWhisperMessage } = createRequire(import.meta.url)('libsignal/src/protobufs.js') as {
  PreKeyWhisperMessage: ProtoCodec;
};

/** A WhisperMessage ends with its 8-byte MAC: flip its last byte. */
function flipMac(whisper: Uint8Array): Buffer {
  const out = Buffer.from(whisper);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
  return out;
}

/** `<message>` as it is, or with a broken ciphertext when the fault says this one is due. */
export function corruptIfDue(conn: Connection, node: BinaryNode): BinaryNode {
  if (!conn.faults().undecryptableInbound) return node;
  const enc = getBinaryNodeChild(node, 'enc');
  if (!enc || !Buffer.isBuffer(enc.content)) return node;
  conn.ctx.faults.consume(conn.account?.phone, 'undecryptableInbound');
  const body = enc.content;
  let broken: Buffer;
  if (enc.attrs.type === 'pkmsg') {
    // version byte, then the PreKeyWhisperMessage protobuf wrapping the WhisperMessage.
    const pre = PreKeyWhisperMessage.decode(body.subarray(1));
    const reencoded = PreKeyWhisperMessage.encode({ ...pre, message: flipMac(pre.message) }).finish();
    broken = Buffer.concat([body.subarray(0, 1), reencoded]);
  } else {
    broken = flipMac(body);
  }
  conn.log.info({ id: node.attrs.id, type: enc.attrs.type }, 'sending an undecryptable copy (fault)');
  const content = (node.content as BinaryNode[]).map((c) => (c === enc ? { ...enc, content: broken } : c));
  return { ...node, content };
}
