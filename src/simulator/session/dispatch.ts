// Routes one decoded stanza from a logged-in (or pairing) client to its handler.
import type { BinaryNode } from '../wa.js';
import type { TrafficKind } from '../faults/faults.js';
import type { Connection } from './connection.js';
import { handleIq } from './iq.js';
import { handleClientMessage } from './client-message.js';
import { receiptIds } from './delivery.js';
import { answerRetryReceipt, isNackOfRetried, isRetryReceipt } from './retry-receipt.js';

export async function dispatch(conn: Connection, node: BinaryNode): Promise<void> {
  switch (node.tag) {
    case 'iq':
      await handleIq(conn, node);
      return;
    case 'message':
      if (conn.state === 'logged-in') await handleClientMessage(conn, node);
      return;
    case 'receipt': {
      // Not a delivery: the client could not decrypt it and asks for it again.
      if (isRetryReceipt(node)) return answerRetryReceipt(conn, node);
      // The client's receipt for an inbound message is its acknowledgement: stop re-sending.
      const ids = receiptIds(node);
      conn.ctx.delivery.acknowledge(conn, ids);
      if (conn.account) conn.ctx.chatLog.read(conn.account.phone, node, ids);
      return;
    }
    case 'chatstate':
      if (conn.account) conn.ctx.chatLog.chatState(conn.account.phone, node);
      return;
    case 'ack':
      // A (n)ack of an inbound message: processed either way, so never re-sent.
      if (node.attrs.class === 'message' && node.attrs.id && !isNackOfRetried(conn, node))
        conn.ctx.delivery.acknowledge(conn, [node.attrs.id]);
      return;
    case 'presence':
    case 'ib':
    case 'notification':
      // Presence, chat state and telemetry (`<ib><unified_session>`) need no answer; they
      // still count as traffic for the idle-timeout policy (see Connection.touch).
      return;
    default:
      conn.log.debug({ tag: node.tag }, 'unhandled stanza');
  }
}

/** Which kind of traffic a stanza is, for the traffic counters and the idle-timeout policy. */
export function classify(node: BinaryNode): TrafficKind {
  switch (node.tag) {
    case 'message':
      return 'message';
    case 'receipt':
      return 'receipt';
    case 'ack':
      return 'ack';
    case 'presence':
    case 'chatstate':
      return 'presence';
    case 'notification':
      return 'notification';
    case 'iq':
      return node.attrs.xmlns === 'w:p' ? 'ping' : 'iq';
    default:
      return 'other';
  }
}
