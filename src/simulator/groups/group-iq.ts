// `w:g2` queries: one group's metadata (`groupMetadata`, asked before every group send
// unless the client caches it) and every group the account is in
// (`groupFetchAllParticipating`). Other `w:g2` verbs (create, leave, invites) are not
// simulated: they get `501`.
import type { BinaryNode } from '../wa.js';
import { childrenOf } from '../wa.js';
import type { Connection } from '../session/connection.js';
import { iqError, result } from '../session/iq.js';
import { groupNode } from './directory.js';

export function handleGroupIq(conn: Connection, iq: BinaryNode): void {
  const account = conn.account;
  const first = childrenOf(iq)[0];
  if (!account || iq.attrs.type !== 'get') {
    conn.send(iqError(iq, 501, 'not-implemented'));
    return;
  }
  const groups = conn.ctx.groups;
  if (first?.tag === 'participating') {
    const mine = groups.of(account.phone).map(groupNode);
    conn.send(result(iq, [{ tag: 'groups', attrs: {}, content: mine }]));
    return;
  }
  if (first?.tag === 'query') {
    const group = groups.get(iq.attrs.to);
    if (!group) conn.send(iqError(iq, 404, 'item-not-found'));
    else if (!group.participants.has(account.phone)) conn.send(iqError(iq, 403, 'forbidden'));
    else conn.send(result(iq, [groupNode(group)]));
    return;
  }
  conn.send(iqError(iq, 501, 'not-implemented'));
}
