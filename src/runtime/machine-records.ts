/**
 * What the account machine emits, published: every `transition` (logged here, the one
 * place transitions are logged) and `account.banned` when WhatsApp bans the account for
 * a while (machines/account/ban.ts).
 */
import type { Logger } from 'pino';
import type { Actor } from 'xstate';
import type { AccountMachine, TransitionRecord } from '../../machines/index.js';
import type { FactSink } from './port.js';

export function publishMachineRecords(
  actor: Actor<AccountMachine>,
  o: { account: string; log: Logger; sink: FactSink; transition(record: TransitionRecord): void },
): void {
  const { account, log, sink } = o;
  actor.on('transition', (record) => {
    log.info(
      {
        from: record.from,
        to: record.to,
        event: record.event,
        reason: record.reason,
        statusCode: record.statusCode,
        cause: record.cause,
      },
      'transition',
    );
    sink({ account, ...record });
    o.transition(record);
  });
  actor.on('account.banned', ({ untilMs, statusCode, banCode }) => {
    const until = new Date(untilMs).toISOString();
    log.warn({ until, statusCode, banCode }, 'temporarily banned by WhatsApp: no connect attempt until the ban ends');
    sink({ account, type: 'account.banned', until, statusCode, ...(banCode !== undefined ? { banCode } : {}) });
  });
}
