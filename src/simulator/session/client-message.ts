// A `<message>` sent by the client: decrypt the copy addressed to the recipient with the
// recipient's Signal identity, record it in the ledger, answer with `<ack class=message>`
// and then delivery/read receipts (Baileys turns receipts into messages.update status 3/4;
// the ack itself only surfaces as the raw `CB:ack,class:message` frame, or as status ERROR
// when it carries an error).
import type { BinaryNode } from '../wa.js';
import { bytesOf, childrenOf, getBinaryNodeChild, proto, signal, unpadRandomMax16 } from '../wa.js';
import { parseJid, pnJid } from '../accounts/jids.js';
import type { Account } from '../accounts/account.js';
import type { Contact } from '../signal/contacts.js';
import type { Connection } from './connection.js';
import { handleGroupSend } from '../groups/group-send.js';
import { readContent, type ContentFields } from '../ledger/content.js';
import type { MediaCheck } from '../ledger/ledger.js';
import { checkMedia } from '../media/check.js';
import { refusalFor } from './send-refusal.js';

export function addressOf(account: Account) {
  // One canonical Signal address per companion device, used for both directions.
  return new signal.ProtocolAddress(account.phone, account.device);
}

export async function handleClientMessage(conn: Connection, node: BinaryNode): Promise<void> {
  const account = conn.account;
  const id = node.attrs.id;
  const to = node.attrs.to;
  if (!account || !id || !to) return;
  const faults = conn.faults();
  const t = String(Math.floor(Date.now() / 1000));
  const error = refusalFor(conn, to);
  if (error !== undefined) {
    conn.log.info({ id, error }, 'rejecting send (fault)');
    conn.afterDelay(faults.ackLatencyMs, () =>
      conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t, error } }),
    );
    return;
  }
  const ownUser = parseJid(to)?.user;
  const isToSelf = ownUser === account.phone || ownUser === account.lid;
  if (node.attrs.category === 'peer' || isToSelf) {
    // Peer/self messages (app-state key requests, own-device sync) are not chats.
    conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t } });
    return;
  }
  const group = conn.ctx.groups.get(to);
  if (group) {
    await handleGroupSend(conn, account, group, node);
    return;
  }
  const contact = conn.ctx.contacts.resolve(to);
  const { text, kind, decrypted, fields, check } = contact
    ? await decryptFor(conn, account, contact, node)
    : { text: undefined, kind: 'unsupported', decrypted: false, fields: { type: 'unsupported' }, check: {} };
  const chat = contact ? pnJid(contact.phone) : to;
  const { entry, duplicate } = conn.ctx.ledger.record({
    account: account.phone,
    chat,
    id,
    text,
    kind,
    decrypted,
    ...fields,
    ...check,
  });
  conn.log.info(
    { id, chat, kind, type: fields.type, mediaError: check.mediaError, decrypted, duplicate, count: entry.count },
    'message received',
  );

  ackAndReceipt(conn, id, to, [undefined]);
}

/** `<ack>` now (or after the latency fault), then delivery and read receipts when switched
 * on: one per recipient, `participant` naming it in groups. */
export function ackAndReceipt(conn: Connection, id: string, to: string, participants: (string | undefined)[]): void {
  const receipts = conn.receipts();
  const now = () => String(Math.floor(Date.now() / 1000));
  const receipt = (participant: string | undefined, type?: 'read') => ({
    tag: 'receipt',
    attrs: { from: to, id, t: now(), ...(participant ? { participant } : {}), ...(type ? { type } : {}) },
  });
  conn.afterDelay(conn.faults().ackLatencyMs, () => {
    conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now() } });
    if (!receipts.delivery) return;
    conn.afterDelay(receipts.deliveryDelayMs, () => {
      for (const p of participants) conn.send(receipt(p));
      if (!receipts.read) return;
      conn.afterDelay(receipts.readDelayMs, () => {
        for (const p of participants) conn.send(receipt(p, 'read'));
      });
    });
  });
}

interface Decrypted {
  text: string | undefined;
  kind: string;
  decrypted: boolean;
  fields: ContentFields;
  /** For media: what the simulator decrypted from the uploaded blob (before the ack). */
  check: MediaCheck;
}

async function decryptFor(conn: Connection, account: Account, contact: Contact, node: BinaryNode): Promise<Decrypted> {
  const enc = findEnc(node, contact);
  const ciphertext = bytesOf(enc);
  const type = enc?.attrs.type;
  if (!ciphertext || (type !== 'pkmsg' && type !== 'msg'))
    return { text: undefined, kind: 'unsupported', decrypted: false, fields: { type: 'unsupported' }, check: {} };
  try {
    const cipher = new signal.SessionCipher(contact.store(), addressOf(account));
    const plain =
      type === 'pkmsg'
        ? await cipher.decryptPreKeyWhisperMessage(ciphertext)
        : await cipher.decryptWhisperMessage(ciphertext);
    const message = proto.Message.decode(unpadRandomMax16(plain));
    const { text, kind, fields, media } = readContent(message);
    const check = media ? checkMedia(conn.ctx.media.store, media) : {};
    return { text, kind, decrypted: true, fields, check };
  } catch (err) {
    conn.log.warn(
      { id: node.attrs.id, type, reason: err instanceof Error ? err.message : String(err) },
      'could not decrypt message',
    );
    return { text: undefined, kind: 'undecryptable', decrypted: false, fields: { type: 'undecryptable' }, check: {} };
  }
}

/** The `<enc>` for the recipient: inside `<participants><to jid>` (matching the contact's
 * PN or LID user), or directly under `<message>` for a single-device resend. */
function findEnc(node: BinaryNode, contact: Contact): BinaryNode | undefined {
  const participants = getBinaryNodeChild(node, 'participants');
  for (const to of childrenOf(participants)) {
    const user = parseJid(to.attrs.jid)?.user;
    if (user === contact.phone || user === contact.lid) return getBinaryNodeChild(to, 'enc');
  }
  return getBinaryNodeChild(node, 'enc');
}
