// Answers the client's IQs. Baileys emits `open` only after `encrypt <count/>`,
// `passive <active/>` and `encrypt <digest/>` are answered (Socket/socket.js CB:success);
// the init queries that follow (abt props, blocklist, privacy) accept the minimal results
// below; anything else gets an empty result, which Baileys tolerates.
import type { BinaryNode } from '../wa.js';
import { childrenOf } from '../wa.js';
import { SERVER_JID } from '../accounts/jids.js';
import type { Connection } from './connection.js';
import { handleEncryptIq } from './encrypt-iq.js';
import { answerUsync } from './usync.js';
import { answerMediaConn } from '../media/media-conn.js';

export function result(iq: BinaryNode, content?: BinaryNode[]): BinaryNode {
  const node: BinaryNode = { tag: 'iq', attrs: { id: iq.attrs.id ?? '', type: 'result', from: SERVER_JID } };
  if (content) node.content = content;
  return node;
}

export function iqError(iq: BinaryNode, code: number, text: string): BinaryNode {
  return {
    ...result(iq, [{ tag: 'error', attrs: { code: String(code), text } }]),
    attrs: { id: iq.attrs.id ?? '', type: 'error', from: SERVER_JID },
  };
}

/** Privacy settings we report (Baileys reads them before sending read receipts). */
const PRIVACY_DEFAULTS: Record<string, string> = {
  readreceipts: 'all',
  last: 'all',
  online: 'all',
  profile: 'all',
  status: 'all',
  groupadd: 'all',
  calladd: 'all',
};

export async function handleIq(conn: Connection, iq: BinaryNode): Promise<void> {
  const { xmlns, type } = iq.attrs;
  const first = childrenOf(iq)[0];
  if (type !== 'get' && type !== 'set') return;
  switch (xmlns) {
    case 'w:p':
      // Keepalive ping: a bare result resets Baileys' dead-link timer.
      conn.afterDelay(conn.faults().pingLatencyMs, () => conn.send(result(iq)));
      return;
    case 'encrypt':
      await handleEncryptIq(conn, iq);
      return;
    case 'usync':
      conn.send(answerUsync(conn, iq));
      return;
    case 'passive':
      conn.send(result(iq));
      // `passive active` comes after the prekey check/upload: the device can now decrypt,
      // so queued (offline) messages go out, then `<ib><offline count>`.
      if (first?.tag === 'active') conn.ctx.delivery.flushOffline(conn);
      return;
    case 'w:m':
      // Media connection info: upload/download hosts point at the simulator.
      if (first?.tag === 'media_conn') answerMediaConn(conn, iq);
      else conn.send(result(iq));
      return;
    case 'md':
      conn.ctx.pairing.onMdIq(conn, iq);
      return;
    case 'abt':
      conn.send(result(iq, [{ tag: 'props', attrs: { protocol: '1', hash: 'simulator' }, content: [] }]));
      return;
    case 'blocklist':
      conn.send(result(iq, [{ tag: 'list', attrs: {}, content: [] }]));
      return;
    case 'privacy':
      if (type === 'get' && first?.tag === 'privacy') {
        const categories = Object.entries(PRIVACY_DEFAULTS).map(([name, value]) => ({
          tag: 'category',
          attrs: { name, value },
        }));
        conn.send(result(iq, [{ tag: 'privacy', attrs: {}, content: categories }]));
      } else {
        conn.send(result(iq));
      }
      return;
    default:
      conn.send(result(iq));
  }
}
