// usync answers: every user has one device (0, the primary phone) and a LID. The LID is
// mandatory in Baileys 7: without the phone→LID mapping the client silently drops the
// recipient (simulator-notes.md).
import type { BinaryNode } from '../wa.js';
import { childrenOf, getBinaryNodeChild, bytesOf } from '../wa.js';
import { lidJid, LID_SERVER, parseJid, pnJid } from '../accounts/jids.js';
import type { Connection } from './connection.js';
import { result } from './iq.js';

export function answerUsync(conn: Connection, iq: BinaryNode): BinaryNode {
  const usync = getBinaryNodeChild(iq, 'usync');
  const protocols = childrenOf(getBinaryNodeChild(usync, 'query')).map((n) => n.tag);
  const users = childrenOf(getBinaryNodeChild(usync, 'list')).filter((n) => n.tag === 'user');
  const list: BinaryNode[] = [];
  for (const user of users) {
    let jid = user.attrs.jid;
    if (!jid) {
      // Phone lookups (onWhatsApp) carry `<contact>+15551234567</contact>` instead of a jid.
      const phone = bytesOf(getBinaryNodeChild(user, 'contact'))?.toString('utf8').replace(/\D/g, '');
      if (!phone) continue;
      jid = pnJid(phone);
    }
    const contact = conn.ctx.contacts.resolve(jid);
    const parsed = parseJid(jid);
    const content: BinaryNode[] = [];
    for (const protocol of protocols) {
      switch (protocol) {
        case 'devices':
          content.push({
            tag: 'devices',
            attrs: {},
            content: [{ tag: 'device-list', attrs: {}, content: [{ tag: 'device', attrs: { id: '0' } }] }],
          });
          break;
        case 'lid':
          if (contact && parsed?.server !== LID_SERVER)
            content.push({ tag: 'lid', attrs: { val: lidJid(contact.lid) } });
          break;
        case 'contact':
          content.push({ tag: 'contact', attrs: { type: contact ? 'in' : 'out' } });
          break;
        case 'disappearing_mode':
          content.push({ tag: 'disappearing_mode', attrs: { duration: '0', t: '0' } });
          break;
        default:
          break;
      }
    }
    list.push({ tag: 'user', attrs: { jid }, content });
  }
  return result(iq, [
    {
      tag: 'usync',
      attrs: { ...usync?.attrs },
      content: [
        { tag: 'result', attrs: {}, content: protocols.map((tag) => ({ tag, attrs: {} })) },
        { tag: 'list', attrs: {}, content: list },
      ],
    },
  ]);
}
