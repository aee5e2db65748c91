// `npm start`: run the gateway with the configuration from WA_CONND_CONFIG (or none:
// one account `default` against WhatsApp, NATS at NATS_URL or localhost).
//
// Exit codes (src/cli/exit-codes.ts): 0 stopped by a signal, 2 bad configuration, 3 no
// NATS, 5 could not start (stderr says what), 70 a bug (see `crash`).
import type { Logger } from 'pino';
import { EXIT } from './cli/exit-codes.js';
import { ConfigError, loadConfig } from './config/load.js';
import { NatsUnavailableError } from './bootstrap/nats.js';
import { printReachability } from './gateway/notices.js';
import { printQrCodes, startGateway, type RunningGateway } from './gateway/start.js';
import { createLogger, guardConsole } from './logging/logger.js';

/** A gateway stopping on a bug gets this long to flush its buffered events before the process exits anyway. */
const CRASH_CLOSE_DEADLINE_MS = 10_000;

let running: RunningGateway | undefined;
let exiting = false;

/**
 * The policy for an unhandled rejection or an uncaught exception: it is a bug, never
 * swallowed. It is logged at fatal with its stack and named on stderr; the gateway is
 * closed as well as it still can be (bounded, so a wedged close cannot keep a broken
 * process alive) and the process exits 70, so a supervisor restarts it and the bug is
 * seen. Nothing is lost by exiting: every accepted send is in WA_EVENTS and replays on
 * the next start.
 */
function crash(logger: Logger | undefined, kind: string, err: unknown): void {
  logger?.fatal({ err }, `${kind}: a bug; stopping`);
  process.stderr.write(
    `wa-connd: ${kind} (a bug, please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  // Whatever ends the process from here (even an emptied event loop) ends it with 70.
  process.exitCode = EXIT.internalError;
  if (exiting) return;
  exiting = true;
  setTimeout(() => process.exit(EXIT.internalError), CRASH_CLOSE_DEADLINE_MS);
  void (running?.close() ?? Promise.resolve())
    .catch((closeErr: unknown) => logger?.error({ err: closeErr }, 'stop after a bug failed'))
    .finally(() => process.exit(EXIT.internalError));
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  guardConsole(logger);
  process.on('unhandledRejection', (err) => crash(logger, 'unhandled rejection', err));
  process.on('uncaughtException', (err) => crash(logger, 'uncaught exception', err));

  try {
    running = await startGateway(config, logger);
  } catch (err) {
    if (err instanceof NatsUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT.natsUnreachable);
    }
    // startGateway has closed what it opened; nothing runs that could use the process.
    logger.fatal({ err }, 'start failed');
    process.stderr.write(`wa-connd could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.startFailed);
  }
  const gateway = running;
  printQrCodes(gateway);
  printReachability(gateway);
  logger.info({ accounts: config.accounts.map((a) => a.id), nats: config.nats.url }, 'wa-connd running');

  const stop = (signal: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'stopping');
    gateway
      .close()
      .then(() => process.exit(EXIT.ok))
      .catch((err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(EXIT.failed);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => crash(undefined, 'start-up error', err));
