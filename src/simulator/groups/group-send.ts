// A `<message to=…@g.us>` from an account: the `skmsg` (the content, encrypted once with
// the sender's key) plus, for devices that do not have that key yet, a `<participants><to>`
// copy (pkmsg/msg) carrying the SenderKeyDistributionMessage. Every participant device
// processes what it was given and then tries the `skmsg`, as a real phone would; the
// ledger records, per device, each time it could read the message.
import type { BinaryNode } from '../wa.js';
import { bytesOf, childrenOf, getBinaryNodeChild, proto, signal, unpadRandomMax16 } from '../wa.js';
import { parseJid, pnJid } from '../accounts/jids.js';
import type { Account } from '../accounts/account.js';
import type { Connection } from '../session/connection.js';
import { ackAndReceipt, addressOf } from '../session/client-message.js';
import { memberJid, type Group } from './directory.js';
import { readContent, type ContentFields } from '../ledger/content.js';

export interface GroupFanOut {
  text: string | undefined;
  kind: string;
  /** What the message holds (src/simulator/ledger/content.ts), once decrypted. */
  fields: ContentFields;
  decrypted: boolean;
  /** Device jids (phone-number form) that could read the message. */
  recipients: string[];
}

export async function receiveGroupSend(
  conn: Connection,
  account: Account,
  group: Group,
  node: BinaryNode,
): Promise<GroupFanOut> {
  const ctx = conn.ctx;
  const sender = { phone: account.phone, device: account.device };
  // 1. The per-device copies: each holds a SenderKeyDistributionMessage.
  for (const to of childrenOf(getBinaryNodeChild(node, 'participants'))) {
    const contact = ctx.contacts.resolve(to.attrs.jid);
    const enc = getBinaryNodeChild(to, 'enc');
    const ciphertext = bytesOf(enc);
    if (!contact || !ciphertext) continue;
    try {
      const cipher = new signal.SessionCipher(contact.store(), addressOf(account));
      const plain =
        enc?.attrs.type === 'pkmsg'
          ? await cipher.decryptPreKeyWhisperMessage(ciphertext)
          : await cipher.decryptWhisperMessage(ciphertext);
      const decoded = proto.Message.decode(unpadRandomMax16(plain));
      const message = decoded.deviceSentMessage?.message ?? decoded;
      const skdm = message.senderKeyDistributionMessage?.axolotlSenderKeyDistributionMessage;
      if (skdm) await ctx.senderKeys.learn(contact.phone, group.jid, sender, skdm);
    } catch (err) {
      conn.log.warn({ id: node.attrs.id, to: to.attrs.jid, reason: errText(err) }, 'group copy undecryptable');
    }
  }
  // 2. The content, once per participant device (the sending device itself excluded).
  const skmsg = bytesOf(childrenOf(node).find((n) => n.tag === 'enc' && n.attrs.type === 'skmsg'));
  const out: GroupFanOut = {
    text: undefined,
    kind: 'unsupported',
    fields: { type: 'unsupported' },
    decrypted: false,
    recipients: [],
  };
  if (!skmsg) return out;
  for (const phone of group.participants.keys()) {
    try {
      const plain = await ctx.senderKeys.decrypt(phone, group.jid, sender, skmsg);
      const { text, kind, fields } = readContent(proto.Message.decode(unpadRandomMax16(plain)));
      Object.assign(out, { text, kind, fields, decrypted: true });
      out.recipients.push(pnJid(phone));
    } catch (err) {
      conn.log.warn({ id: node.attrs.id, participant: phone, reason: errText(err) }, 'skmsg undecryptable');
    }
  }
  return out;
}

/** Whether a `to` names a group. */
export const isGroupJid = (jid: string | undefined): boolean => parseJid(jid)?.server === 'g.us';

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Records a group send in the ledger (with its recipients) and answers it like WhatsApp:
 * an ack, then receipts per participant when the receipts switch is on. */
export async function handleGroupSend(conn: Connection, account: Account, group: Group, node: BinaryNode) {
  const id = node.attrs.id ?? '';
  const fanOut = await receiveGroupSend(conn, account, group, node);
  const { entry, duplicate } = conn.ctx.ledger.record({
    account: account.phone,
    chat: group.jid,
    id,
    text: fanOut.text,
    kind: fanOut.kind,
    decrypted: fanOut.decrypted,
    ...fanOut.fields,
    recipients: fanOut.recipients,
  });
  conn.log.info(
    { id, chat: group.jid, kind: fanOut.kind, recipients: fanOut.recipients.length, duplicate, count: entry.count },
    'group message received',
  );
  const others = [...group.participants.keys()].filter((p) => p !== account.phone).map((p) => memberJid(group, p));
  ackAndReceipt(conn, id, group.jid, others);
}
