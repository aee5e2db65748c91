// Retry receipts. When Baileys cannot decrypt an inbound message ("Bad MAC", "No session",
// "Invalid PreKey ID" — e.g. two prekey messages racing), it asks the sender to encrypt it
// again (sendRetryRequest in Socket/messages-recv.js):
//   <receipt id type=retry to><retry count id t v/><registration>uint32</registration>
//     [<keys><type/><identity/><key><id/><value/></key><skey><id/><value/><signature/></skey>
//      <device-identity/></keys>]</receipt>
// and then nacks the message (`<ack class=message error=500>`). WhatsApp relays the receipt
// to the sender, whose phone encrypts the message again and sends it under the same id
// (whatsmeow's handleRetryReceipt: from a fresh session built on the receipt's keys when
// it carries them, else on the session it has). The simulator plays that sender.
import { getBinaryNodeChild, getBinaryNodeChildBuffer, signal, type BinaryNode } from '../wa.js';
import type { Account } from '../accounts/account.js';
import type { Contact } from '../signal/contacts.js';
import type { Connection } from './connection.js';
import { addressOf } from './client-message.js';

/** Message ids a retry receipt was answered for, per connection, until the nack that follows it. */
const answered = new WeakMap<Connection, Set<string>>();

export function isRetryReceipt(node: BinaryNode): boolean {
  return node.tag === 'receipt' && node.attrs.type === 'retry';
}

/** Re-encrypts the message the receipt names and sends it again, same id. */
export async function answerRetryReceipt(conn: Connection, node: BinaryNode): Promise<void> {
  const account = conn.account;
  const id = node.attrs.id;
  if (!account || !id) return;
  const msg = conn.pendingInbound.get(id);
  if (!msg) {
    // Already acknowledged, or from before a reconnect (then it is queued and goes out again anyway).
    conn.log.info({ id }, 'retry receipt for a message not pending: ignored');
    return;
  }
  const count = getBinaryNodeChild(node, 'retry')?.attrs.count;
  const keys = getBinaryNodeChild(node, 'keys');
  const contact = conn.ctx.contacts.get(msg.from);
  if (keys) await sessionFromRetryKeys(contact, account, node, keys);
  conn.log.info({ id, count, freshSession: keys !== undefined }, 'retry receipt: sending the message again');
  let ids = answered.get(conn);
  if (!ids) answered.set(conn, (ids = new Set()));
  ids.add(id);
  conn.ctx.delivery.resend(conn, msg);
}

/**
 * The nack Baileys sends right after its retry receipt: the message is still owed (its
 * re-sent copy), so it stays pending rather than counting as processed.
 */
export function isNackOfRetried(conn: Connection, node: BinaryNode): boolean {
  const id = node.attrs.id;
  const ids = answered.get(conn);
  if (!node.attrs.error || !id || !ids?.has(id)) return false;
  ids.delete(id);
  return true;
}

const buf = (node: BinaryNode | undefined, tag: string): Buffer | undefined => {
  const b = getBinaryNodeChildBuffer(node, tag);
  return b ? Buffer.from(b) : undefined;
};
const uint = (bytes: Buffer | undefined): number | undefined =>
  bytes?.length ? bytes.readUIntBE(0, bytes.length) : undefined;
const withKeyType = (key: Buffer): Buffer => (key.length === 33 ? key : Buffer.concat([Buffer.from([5]), key]));

/** A new session from the keys the client sent with its retry receipt (replaces the old one). */
async function sessionFromRetryKeys(
  contact: Contact,
  account: Account,
  receipt: BinaryNode,
  keys: BinaryNode,
): Promise<void> {
  const registrationId = uint(buf(receipt, 'registration'));
  const identity = buf(keys, 'identity');
  const skey = getBinaryNodeChild(keys, 'skey');
  const key = getBinaryNodeChild(keys, 'key');
  const skeyId = uint(buf(skey, 'id'));
  const skeyValue = buf(skey, 'value');
  const signature = buf(skey, 'signature');
  if (registrationId === undefined || !identity || skeyId === undefined || !skeyValue || !signature) return;
  const keyId = uint(buf(key, 'id'));
  const keyValue = buf(key, 'value');
  await new signal.SessionBuilder(contact.store(), addressOf(account)).initOutgoing({
    registrationId,
    identityKey: withKeyType(identity),
    signedPreKey: { keyId: skeyId, publicKey: withKeyType(skeyValue), signature },
    ...(keyId !== undefined && keyValue ? { preKey: { keyId, publicKey: withKeyType(keyValue) } } : {}),
  });
}
