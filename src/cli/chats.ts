/**
 * `wa-connd groups|read|presence`: an account's groups, read receipts and chat state
 * (issue 14), through the typed client.
 */
import { Argument, type Command } from 'commander';
import { CHAT_STATES, type ChatState } from '../contract/index.js';
import type { WaClient } from '../client/index.js';
import type { Io } from './commands.js';

type WithClient = (command: Command, body: (wa: WaClient) => Promise<void>) => Promise<never>;

export function registerChatCommands(program: Command, io: Io, withClient: WithClient): void {
  program
    .command('groups <account>')
    .description('the groups the account is in: jid, subject, participants with their roles')
    .option('--json', 'print the groups as JSON')
    .action((account: string, o: { json?: boolean }, c: Command) => withClient(c, (wa) => groups(wa, io, account, o)));
  program
    .command('read <account> <chat> <ids...>')
    .description('mark messages (their waMessageId) read in a chat; held and sent later while the account is offline')
    .action((account: string, chat: string, ids: string[], _o, c: Command) =>
      withClient(c, async (wa) => {
        const r = await wa.read(account, { chat, ids });
        io.out.write(`${r.chat}: ${ids.length} read, ${r.status}\n`);
      }),
    );
  program
    .command('presence <account> <chat>')
    .addArgument(new Argument('<state>').choices(CHAT_STATES))
    .description(`show ${CHAT_STATES.join(' / ')} in a chat (refused while the account is offline)`)
    .action((account: string, chat: string, state: string, _o, c: Command) =>
      withClient(c, async (wa) => {
        const r = await wa.presence(account, { chat, state: state as ChatState });
        io.out.write(`${r.chat}: ${r.state}\n`);
      }),
    );
}

export async function groups(wa: WaClient, io: Io, account: string, opts: { json?: boolean }): Promise<void> {
  const all = await wa.groups(account);
  if (opts.json) {
    io.out.write(`${JSON.stringify(all)}\n`);
    return;
  }
  if (all.length === 0) io.out.write('(no groups)\n');
  for (const g of all) {
    const admins = g.participants.filter((p) => p.role !== 'member').length;
    io.out.write(`${g.jid}  ${JSON.stringify(g.subject)}  ${g.participants.length} participants, ${admins} admins\n`);
    for (const p of g.participants) io.out.write(`  ${p.jid}${p.role === 'member' ? '' : ` (${p.role})`}\n`);
  }
}
