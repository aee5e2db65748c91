// Inbound messages (a contact writes to an account). Delivered at once when the account's
// device is connected and past login, otherwise queued; the queue is flushed on the next
// login before `<ib><offline count=N/>`, marked `offline`, so Baileys hands them to the app
// as messages.upsert type `append`. A message counts as delivered only when the client
// acknowledges it (its `<receipt>`); unacknowledged ones go back to the queue when the
// connection drops — at-least-once, like the real server.
import { randomBytes } from 'node:crypto';
import type { BinaryNode } from '../wa.js';
import { childrenOf, encodeWAMessage, getBinaryNodeChild, proto, signal } from '../wa.js';
import { SimulatorError } from '../errors.js';
import { lidJid, pnJid, PHONE_PATTERN } from '../accounts/jids.js';
import type { Account, QueuedInbound } from '../accounts/account.js';
import type { Contact } from '../signal/contacts.js';
import type { SimulatorContext } from './context.js';
import type { Connection } from './connection.js';
import { addressOf } from './client-message.js';
import { checkGroupInbound, groupSenderAttrs } from '../groups/inbound-group.js';
import { buildInbound, type InboundRequest } from './inbound-content.js';
import { readContent } from '../ledger/content.js';
import { checkMedia } from '../media/check.js';
import { corruptIfDue } from './inbound-corruption.js';

/** Signal message type 3 is a PreKeyWhisperMessage (pkmsg); others are plain `msg`. */
const PREKEY_WHISPER_TYPE = 3;

export type { InboundRequest } from './inbound-content.js';

export interface InboundResult {
  id: string;
  status: 'sent' | 'queued';
}

export function receiptIds(node: BinaryNode): string[] {
  const ids = node.attrs.id ? [node.attrs.id] : [];
  for (const item of childrenOf(getBinaryNodeChild(node, 'list'))) if (item.attrs.id) ids.push(item.attrs.id);
  return ids;
}

/** Message ids in the style of WhatsApp's (3EB0 + hex). */
export const newMessageId = (): string => `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;

export class InboundDelivery {
  constructor(private readonly ctx: SimulatorContext) {}

  push(req: InboundRequest): InboundResult {
    const account = this.ctx.accounts.get(req.account);
    if (!account) throw new SimulatorError('unknown_account', `no account ${req.account}`);
    if (!PHONE_PATTERN.test(req.from))
      throw new SimulatorError('bad_request', '`from` must be a phone number (digits)');
    const stanza = buildInbound(req, account.phone, this.ctx.media);
    this.ctx.contacts.know(req.from);
    if (req.group !== undefined) checkGroupInbound(this.ctx.groups.require(req.group), account.phone, req.from);
    const msg: QueuedInbound = {
      id: req.id ?? newMessageId(),
      from: req.from,
      message: stanza.message,
      type: stanza.type,
      t: Math.floor(Date.now() / 1000),
      ...(stanza.edit ? { edit: stanza.edit } : {}),
      ...(req.group !== undefined ? { group: req.group } : {}),
    };
    this.record(account.phone, msg);
    const conn = this.ctx.sessions.forAccount(account.phone);
    if (conn && conn.readyForDelivery && conn.state === 'logged-in') {
      // Pending from now on, so a drop before the send re-queues it in order.
      conn.pendingInbound.set(msg.id, msg);
      this.chain(conn, () => this.deliver(conn, account, [msg], false));
      return { id: msg.id, status: 'sent' };
    }
    account.offline.push(msg);
    return { id: msg.id, status: 'queued' };
  }

  /** Called when the client is ready (after `passive active`): queued messages, then
   * `<ib><offline count>` which ends Baileys' initial event buffering. */
  flushOffline(conn: Connection): void {
    const account = conn.account;
    if (!account || conn.readyForDelivery) return;
    conn.readyForDelivery = true;
    const batch = account.offline.splice(0);
    for (const msg of batch) conn.pendingInbound.set(msg.id, msg);
    this.chain(conn, async () => {
      const sent = await this.deliver(conn, account, batch, true);
      conn.send({
        tag: 'ib',
        attrs: { from: 's.whatsapp.net' },
        content: [{ tag: 'offline', attrs: { count: String(sent) } }],
      });
    });
  }

  /** The ledger's inbound view: what contacts pushed, with the same fields as sends. */
  private record(account: string, msg: QueuedInbound): void {
    const { text, kind, fields, media } = readContent(proto.Message.fromObject(msg.message));
    const check = media ? checkMedia(this.ctx.media.store, media) : {};
    this.ctx.ledger.record({
      direction: 'in',
      account,
      chat: msg.group ?? pnJid(msg.from),
      id: msg.id,
      text,
      kind,
      decrypted: true,
      ...fields,
      ...check,
    });
  }

  acknowledge(conn: Connection, ids: string[]): void {
    for (const id of ids) conn.pendingInbound.delete(id);
  }

  /** Sends `msg` again, encrypted afresh (a retry receipt); pending until the client's receipt. */
  resend(conn: Connection, msg: QueuedInbound): void {
    const account = conn.account;
    if (!account) return;
    conn.pendingInbound.set(msg.id, msg);
    this.chain(conn, async () => {
      if (conn.state !== 'logged-in' || !conn.pendingInbound.has(msg.id)) return;
      const node = await this.encrypt(account, this.ctx.contacts.get(msg.from), msg, false);
      if (conn.state === 'logged-in') conn.send(node);
    });
  }

  /** On disconnect: what was sent but not acknowledged goes back to the front of the queue. */
  requeue(conn: Connection): void {
    const account = conn.account;
    if (!account || conn.pendingInbound.size === 0) return;
    account.offline.unshift(...conn.pendingInbound.values());
    conn.log.info({ count: conn.pendingInbound.size }, 'unacknowledged inbound messages re-queued');
    conn.pendingInbound.clear();
  }

  private chain(conn: Connection, task: () => Promise<unknown>): void {
    conn.deliveryChain = conn.deliveryChain.then(task).then(
      () => undefined,
      (err: unknown) =>
        conn.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'inbound delivery failed'),
    );
  }

  /** Encrypts and sends in order. Every message is already in `pendingInbound`, so one
   * not sent (connection gone, no keys yet) is re-queued in order when the socket closes. */
  private async deliver(conn: Connection, account: Account, batch: QueuedInbound[], offline: boolean): Promise<number> {
    let sent = 0;
    for (const msg of batch) {
      if (conn.state !== 'logged-in' || !account.bundle) break;
      if (!conn.pendingInbound.has(msg.id)) continue;
      const node = await this.encrypt(account, this.ctx.contacts.get(msg.from), msg, offline);
      if (conn.state !== 'logged-in') break;
      conn.send(corruptIfDue(conn, node));
      sent++;
    }
    return sent;
  }

  private async encrypt(account: Account, contact: Contact, msg: QueuedInbound, offline: boolean): Promise<BinaryNode> {
    const store = contact.store();
    const address = addressOf(account);
    const bundle = account.bundle;
    if (!store.hasSession(address.toString()) && bundle) {
      // Inbound-first: start the session from the device's uploaded keys, spending one
      // one-time prekey if any is left (Signal allows signed-prekey-only sessions).
      const preKey = bundle.preKeys.shift();
      bundle.preKeyCount = Math.max(0, bundle.preKeyCount - 1);
      await new signal.SessionBuilder(store, address).initOutgoing({
        registrationId: bundle.registrationId,
        identityKey: withKeyType(bundle.identityKey),
        signedPreKey: {
          keyId: bundle.signedPreKey.keyId,
          publicKey: withKeyType(bundle.signedPreKey.publicKey),
          signature: bundle.signedPreKey.signature,
        },
        ...(preKey ? { preKey: { keyId: preKey.keyId, publicKey: withKeyType(preKey.publicKey) } } : {}),
      });
    }
    const group = this.ctx.groups.get(msg.group);
    const sk = group ? await this.ctx.senderKeys.encrypt(group.jid, contact.phone, msg.message) : undefined;
    // In a group the pairwise copy carries the contact's sender key; the content is the skmsg.
    const { type, body } = await new signal.SessionCipher(store, address).encrypt(
      encodeWAMessage(
        group && sk
          ? { senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: sk.skdm } }
          : msg.message,
      ),
    );
    const attrs: Record<string, string> = {
      ...(group
        ? groupSenderAttrs(group, contact.phone)
        : { from: lidJid(contact.lid), sender_pn: pnJid(contact.phone) }),
      id: msg.id,
      t: String(msg.t),
      type: msg.type,
      notify: contact.name,
    };
    if (offline) attrs.offline = '1';
    if (msg.edit) attrs.edit = msg.edit;
    const content: BinaryNode[] = [
      {
        tag: 'enc',
        attrs: { v: '2', type: type === PREKEY_WHISPER_TYPE ? 'pkmsg' : 'msg' },
        content: Buffer.from(body, 'binary'),
      },
    ];
    if (sk) content.push({ tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: Buffer.from(sk.skmsg) });
    return { tag: 'message', attrs, content };
  }

  /** Drops every queued inbound message (control API reset). */
  clearQueues(): void {
    for (const account of this.ctx.accounts.list()) account.offline.length = 0;
  }
}

const withKeyType = (key: Buffer): Buffer => (key.length === 33 ? key : Buffer.concat([Buffer.from([5]), key]));
