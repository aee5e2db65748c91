/**
 * Human-readable output of the CLI. Message text is never printed here (a terminal
 * scrollback is a log too): `--json` gives the events as they are in the stream.
 */
import type { OkReplyOf, StreamEvent, WaEvent } from '../client/index.js';

export function formatEvent({ streamSeq, event }: StreamEvent): string {
  return `${event.at}  ${event.account.padEnd(12)} #${String(event.seq).padEnd(5)} ${event.type.padEnd(12)} ${details(event)}  (stream ${streamSeq})`.trimEnd();
}

function details(e: WaEvent): string {
  switch (e.type) {
    case 'transition':
      return `${e.from} → ${e.to} on ${e.event}${e.reason ? ` (${e.reason})` : ''}${e.statusCode !== undefined ? ` [${e.statusCode}]` : ''}`;
    case 'send.queued':
      return `${e.id} to ${e.to}, ${e.kind}${e.text !== undefined ? `, ${[...e.text].length} chars` : ''}${e.content?.media ? `, ${e.content.media.size} bytes (${e.content.media.object})` : ''}${e.deadline ? `, deadline ${e.deadline}` : ''}`;
    case 'send.sent':
      return `${e.id} as ${e.waMessageId}`;
    case 'send.acked':
      return `${e.id} ${e.ack}`;
    case 'send.failed':
      return `${e.id} ${e.error.code}: ${e.error.message}${e.retryable === false ? ' (do not retry)' : ''}`;
    case 'send.expired':
      return e.id;
    case 'send.uploaded':
      return `${e.id} uploaded, ${e.media.fileLength} bytes`;
    case 'message.in':
      return `${e.waMessageId} from ${e.from}${e.chat !== e.from ? ` in ${e.chat}` : ''}, ${e.kind ?? 'text'}${e.text !== undefined ? `, ${[...e.text].length} chars` : ''}${e.media?.object ? `, object ${e.media.object}` : ''}${e.replyTo ? `, replying to ${e.replyTo}` : ''}`;
    case 'message.reaction':
      return `${e.from} ${e.emoji ? 'reacted to' : 'removed the reaction on'} ${e.target}`;
    case 'message.edited':
      return `${e.from} edited ${e.target}`;
    case 'message.deleted':
      return `${e.from} deleted ${e.target}`;
    case 'receipt':
      return `${e.id} ${e.status} by ${e.participant} in ${e.chat}`;
    case 'group.participants':
      return `${e.chat}: ${e.action} ${e.participants.join(', ')}${e.by ? ` by ${e.by}` : ''}`;
    case 'message.undecryptable':
      return `${e.waMessageId} from ${e.from}: ${e.reason} (asked the sender to send it again)`;
    case 'account.banned':
      return `temporarily banned until ${e.until} [${e.statusCode}]${e.banCode !== undefined ? ` code ${e.banCode}` : ''}`;
    case 'qr':
      return 'a new QR code to scan (wa-connd pair shows it)';
    case 'paired':
      return e.jid ?? '';
    case 'logged_out':
      return e.statusCode !== undefined ? `[${e.statusCode}]` : '';
    case 'drop.pattern':
      return `drops every ${Math.round(e.periodMs / 1000)} s (confidence ${e.confidence}, ${e.samples} sessions)`;
    case 'keepalive':
      return `${e.probe} ${e.outcome}${e.rttMs !== undefined ? ` ${Math.round(e.rttMs)} ms` : ''}${e.loopDelayMs ? `, loop delay ${Math.round(e.loopDelayMs)} ms` : ''}`;
    case 'webhook.dead_lettered':
      return `endpoint ${e.endpoint} gave up on stream seq ${e.streamSeq} (${e.eventType}) after ${e.attempts} attempts: ${e.reason}`;
    case 'owner.acquired':
      return `by ${e.writer} (${e.host} pid ${e.pid})${e.previous ? `, from ${e.previous}` : ''}`;
    case 'owner.released':
      return `by ${e.writer} (${e.reason})`;
    case 'owner.lost':
      return `${e.writer}'s lease expired; taken by ${e.by}`;
    default: {
      const unreachable: never = e;
      return String(unreachable);
    }
  }
}

export function formatStatus(s: OkReplyOf<'status'>): string {
  const lines = [
    `${s.account}: ${s.state} since ${s.since}`,
    `  outbox: ${s.outbox.depth} held`,
    `  keepalive: ${s.keepalive.lastRttMs === null ? 'no probe answered yet' : `last RTT ${Math.round(s.keepalive.lastRttMs)} ms at ${s.keepalive.lastAt}`}, ${s.keepalive.timeouts} timeouts`,
  ];
  if (s.lastDisconnects.length) {
    lines.push('  last disconnects:');
    for (const d of s.lastDisconnects.slice(0, 5))
      lines.push(
        `    ${d.at}${d.statusCode !== undefined ? ` ${d.statusCode}` : ''}${d.reason ? ` ${d.reason}` : ''}${d.cause ? ` (${d.cause})` : ''}`,
      );
  }
  return lines.join('\n');
}

export function formatAccounts(accounts: OkReplyOf<'accounts.list'>['accounts']): string {
  if (accounts.length === 0) return '(no accounts)';
  const width = Math.max(7, ...accounts.map((a) => a.account.length));
  return [`${'ACCOUNT'.padEnd(width)}  STATE`, ...accounts.map((a) => `${a.account.padEnd(width)}  ${a.state}`)].join(
    '\n',
  );
}
