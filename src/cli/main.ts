/**
 * `wa-connd` — the command line. `start`, `demo` and `simulator` run processes; every
 * other command talks to a running gateway through NATS with the typed client, as a
 * user's program would. Exit codes: src/cli/exit-codes.ts (and `wa-connd --help`).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_REQUEST_TIMEOUT_MS, EVENT_TYPES, type WaClient } from '../client/index.js';
import type { DemoCliOptions } from '../demo/cli.js';
import * as cmd from './commands.js';
import * as sessions from './sessions.js';
import { registerChatCommands } from './chats.js';
import { parseDuration } from './duration.js';
import { exitCodeOf } from './errors.js';
import { EXIT } from './exit-codes.js';
import { contentOf, registerMessageCommands, type SendFlags } from './send-kinds.js';
import { openClient, type GlobalOptions } from './session.js';

const io: cmd.Io = { out: process.stdout, err: process.stderr };
const version = packageVersion();

/** The nearest package.json above this file: the repo's from src/cli/, the package's from dist/src/cli/. */
function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      return (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }).version;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir.pathname === '/') throw err;
    }
  }
}

const EXIT_HELP = `
Exit codes:
  0  done
  1  the gateway answered with an error (printed as "code: message"), accounts import/export refused (same form), or the demo lost or duplicated a message
  2  bad usage or bad configuration (the message names the option or config key)
  3  no NATS server reachable
  4  NATS is up but no gateway answered
  5  timed out waiting after the gateway answered (pair: no scan within --wait-timeout; disconnect: not stopped within --timeout)
  6  start: the gateway could not start (stderr says what, e.g. the HTTP port is taken)
  70 start: an unhandled error (a bug) stopped the gateway

NATS and credentials come from the gateway's own configuration: --config (or
WA_CONND_CONFIG) and the environment (NATS_URL, NATS_USER, NATS_PASS, NATS_TOKEN,
NATS_CREDS); --nats overrides the URL. See docs/cli.md.`;

function finish(code: number, message: string | null): never {
  if (message) process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs `body` with a client, then exits with the code its outcome maps to. */
async function withClient(command: Command, body: (wa: WaClient) => Promise<void>): Promise<never> {
  let wa: WaClient | undefined;
  try {
    wa = await openClient(command.optsWithGlobals<GlobalOptions>());
    await body(wa);
  } catch (err) {
    await wa?.close().catch(() => undefined);
    const { code, message } = exitCodeOf(err);
    finish(code, message);
  }
  await wa.close().catch(() => undefined);
  finish(EXIT.ok, null);
}

/** Runs a command that works on the data dir, not through NATS, then exits as `withClient` does. */
async function local(body: () => Promise<void>): Promise<never> {
  try {
    await body();
  } catch (err) {
    const { code, message } = exitCodeOf(err);
    finish(code, message);
  }
  finish(EXIT.ok, null);
}

/** How long a command waits for an outcome after the reply: `--timeout`, or the client's default. */
function waitMsOf(command: Command): number {
  const t = command.optsWithGlobals<GlobalOptions>().timeout;
  return (t === undefined ? null : parseDuration(t)) ?? DEFAULT_REQUEST_TIMEOUT_MS;
}

export function buildProgram(): Command {
  const program = new Command('wa-connd')
    .description('WhatsApp Multi-Device gateway: run it, and talk to it through NATS')
    .version(version)
    .option('-c, --config <file>', 'config file, YAML or JSON (default: $WA_CONND_CONFIG)')
    .option('--nats <url>', 'NATS server URL (default: $NATS_URL, the config file, or nats://127.0.0.1:4222)')
    .option(
      '--timeout <duration>',
      'how long to wait for the gateway to reply, and for disconnect to finish draining (e.g. 10s)',
    )
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_HELP);

  program
    .command('start')
    .description(
      'run the gateway (what `npm start` runs): the accounts of the config file, NATS at NATS_URL, started locally when none answers',
    )
    .action(async (_o, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      if (g.config !== undefined) process.env.WA_CONND_CONFIG = g.config;
      if (g.nats !== undefined) process.env.NATS_URL = g.nats;
      await import('../main.js');
    });

  program
    .command('demo')
    .description(
      "NATS + the WhatsApp simulator + a gateway with two accounts under the field report's 408 loop, a steady trickle of sends, and a live tally of drops, held sends, losses and duplicates",
    )
    .option('--duration <duration>', 'stop after this long (e.g. 30s, 2m); default: until Ctrl-C')
    .option('--rate <per-second>', 'sends per second, spread over both accounts', '4')
    .option('--period <duration>', "the server's drop period after scaling (the field report's 16 min)", '2s')
    .option('--data-dir <dir>', 'where credentials go (default: a temp dir, removed at the end)')
    .option('--json', 'print the summaries as JSON lines')
    .option('--log-level <level>', 'gateway log level (logs go to stderr)', 'fatal')
    .option('--simulator-http <url>', 'use a running simulator (its control API) instead of starting one')
    .option('--simulator-ws <url>', 'with --simulator-http: its WebSocket URL as this process reaches it')
    .option('--simulator-time-scale <factor>', 'with --simulator-http: the --time-scale it was started with')
    .action(async (o: DemoCliOptions, c: Command) => {
      const { runDemoCli } = await import('../demo/cli.js');
      const code = await runDemoCli({ ...o, ...c.optsWithGlobals<GlobalOptions>() });
      finish(code, null);
    });

  program
    .command('simulator')
    .description(
      'run the WhatsApp simulator alone (prints one JSON line {ws, http, media, rootPublicKey, caPem}); see docs/simulator.md',
    )
    .option('--ws-port <port>', 'WebSocket port (0: any free one)', '0')
    .option('--http-port <port>', 'control API port (0: any free one)', '0')
    .option('--host <host>', 'interface to listen on (the control API has no auth)')
    .option('--seed <seed>', 'derive the certificate root from this, so its key is known in advance')
    .option('--time-scale <factor>', 'multiply policy timers (0.002 runs 16 min in ~1.9 s)', '1')
    .option('--log-level <level>', 'pino level; logs are JSON on stderr', 'info')
    .action(async (o: Record<string, string | undefined>) => {
      const args = Object.entries(o).flatMap(([k, v]) =>
        v === undefined ? [] : [`--${k.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`, v],
      );
      process.argv = [process.argv[0]!, 'simulator', ...args];
      await import('../simulator/cli.js');
    });

  const accounts = program
    .command('accounts')
    .description('list, add and remove accounts; import and export their sessions')
    .addHelpText('after', EXIT_HELP);
  accounts
    .command('list')
    .description('the accounts of the gateway and their states')
    .option('--json', 'one JSON array')
    .action((o: { json?: boolean }, c: Command) => withClient(c, (wa) => cmd.accountsList(wa, io, o)));
  accounts
    .command('add <account>')
    .description('add an account (it pairs by QR unless credentials exist in the data dir)')
    .addOption(
      new Option('--keepalive <strategy>', 'what a keepalive probe sends').choices(['ping', 'presence', 'both', 'off']),
    )
    .option('--no-connect', 'add it stopped')
    .action((account: string, o: { keepalive?: string; connect: boolean }, c: Command) =>
      withClient(c, (wa) => cmd.accountsAdd(wa, io, account, o)),
    );
  accounts
    .command('remove <account>')
    .description('stop an account and remove it; sends it still held fail with unknown_account')
    .action((account: string, _o, c: Command) => withClient(c, (wa) => cmd.accountsRemove(wa, io, account)));
  const dataDirHelp =
    "with auth.store file: the gateway's data dir (default: dataDir of --config, $WA_CONND_DATA_DIR, or .data)";
  accounts
    .command('import <account> <dir>')
    .description(
      "take a Baileys multi-file auth folder (useMultiFileAuthState's creds.json + key files) as the account's session: no QR scan. Into the configured auth store (NATS KV WA_AUTH, or the data dir with auth.store file), not through a gateway; refused while a gateway runs the account",
    )
    .option('--force', 'replace credentials the account already has')
    .option('--data-dir <dir>', dataDirHelp)
    .option('--json', 'print the result as JSON')
    .action((account: string, dir: string, o: sessions.SessionCliOptions & { force?: boolean }, c: Command) =>
      local(() => sessions.accountsImport(c.optsWithGlobals<GlobalOptions>(), io, account, dir, o)),
    );
  accounts
    .command('export <account> <dir>')
    .description(
      "write the account's session as a folder Baileys' useMultiFileAuthState loads (dir: new or empty). Refused while a gateway runs the account",
    )
    .option('--data-dir <dir>', dataDirHelp)
    .option('--json', 'print the result as JSON')
    .action((account: string, dir: string, o: sessions.SessionCliOptions, c: Command) =>
      local(() => sessions.accountsExport(c.optsWithGlobals<GlobalOptions>(), io, account, dir, o)),
    );
  accounts
    .command('move-store <account>')
    .description(
      "move the account's credentials and keys between the auth stores (NATS KV WA_AUTH ⇄ the data dir); the source is emptied. Refused while a gateway runs the account",
    )
    .requiredOption('--to <store>', 'kv or file')
    .option('--data-dir <dir>', dataDirHelp)
    .option('--json', 'print the result as JSON')
    .action((account: string, o: sessions.SessionCliOptions & { to: string }, c: Command) =>
      local(() => sessions.accountsMoveStore(c.optsWithGlobals<GlobalOptions>(), io, account, o)),
    );

  program
    .command('pair <account>')
    .description('pair an account: QR codes shown here until the phone scanned one, or a pairing code with --phone')
    .option('--phone <number>', "the phone's number (E.164): get a code to type on the phone instead of a QR")
    .option('--no-wait', 'start QR pairing and return at once')
    .option('--wait-timeout <duration>', 'give up waiting for the scan after this', '3m')
    .action((account: string, o: { phone?: string; wait: boolean; waitTimeout: string }, c: Command) =>
      withClient(c, (wa) => cmd.pair(wa, io, account, o)),
    );

  program
    .command('send <account> <to> [text]')
    .description('send a text, or a file with --image/--video/--audio/--document/--sticker; prints "<id> <status>"')
    .option('--id <id>', 'idempotency key: the same id never sends twice (default: one made by the gateway)')
    .option('--deadline <when>', 'expire instead of sending late: a duration from now (5m) or an ISO time')
    .option('--image <file>', 'send this image (via WA_MEDIA)')
    .option('--video <file>', 'send this video')
    .option('--audio <file>', 'send this audio')
    .option('--voice-note', 'with --audio: as a voice note')
    .option('--document <file>', 'send this file as a document')
    .option('--sticker <file>', 'send this sticker (webp)')
    .option('--caption <text>', 'caption of an image, video or document')
    .option('--file-name <name>', 'file name of a document (default: the file’s)')
    .option('--mimetype <type>', 'mimetype of the file (default: from its extension)')
    .option('--reply-to <message-id>', 'quote this message (its WhatsApp id)')
    .option('--json', 'print the reply as JSON')
    .action(
      (
        account: string,
        to: string,
        text: string | undefined,
        o: SendFlags & { id?: string; deadline?: string; json?: boolean },
        c: Command,
      ) => withClient(c, async (wa) => cmd.send(wa, io, account, to, await contentOf(wa, text, o), o)),
    );
  registerMessageCommands(program, io, withClient);

  program
    .command('status [account]')
    .description('state, since when, outbox depth, keepalive and last disconnects (every account when none is named)')
    .option('--json', 'JSON lines, one per account')
    .action((account: string | undefined, o: { json?: boolean }, c: Command) =>
      withClient(c, (wa) => cmd.status(wa, io, account, o)),
    );

  registerChatCommands(program, io, withClient);

  for (const verb of ['connect', 'disconnect', 'logout'] as const) {
    const what = {
      connect: 'connect an account (after disconnect, or to retry now)',
      disconnect: 'stop an account; held sends stay queued',
      logout: 'unlink the device from WhatsApp; held sends fail',
    }[verb];
    program
      .command(`${verb} <account>`)
      .description(what)
      .action((account: string, _o, c: Command) =>
        withClient(c, (wa) => cmd.lifecycle(wa, io, verb, account, { waitMs: waitMsOf(c) })),
      );
  }

  program
    .command('events [account]')
    .description('tail the event stream (WA_EVENTS), human-readable or as JSON lines')
    .option('--type <type...>', `only these event types (${EVENT_TYPES.join(', ')})`)
    .option(
      '--since <where>',
      'start at a stream sequence, "start", a duration ago (10m) or an ISO time (default: new events only)',
    )
    .option('--json', 'JSON lines: each event with its streamSeq')
    .option('--no-follow', 'stop at the current end of the stream')
    .option('--limit <n>', 'stop after n events')
    .action((account: string | undefined, o: cmd.EventsCliOptions, c: Command) =>
      withClient(c, (wa) =>
        cmd.events(wa, io, account, o, (close) => {
          for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, close);
        }),
      ),
    );

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  const { code, message } = exitCodeOf(err);
  finish(code, message);
}
