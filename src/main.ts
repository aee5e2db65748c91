// `npm start`: run the gateway with the configuration from WA_CONND_CONFIG (or none:
// one account `default` against WhatsApp, NATS at NATS_URL or localhost).
import { ConfigError, loadConfig } from './config/load.js';
import { NatsUnavailableError } from './bootstrap/nats.js';
import { printQrCodes, startGateway } from './gateway/start.js';
import { createLogger, guardConsole } from './logging/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  guardConsole(logger);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (kept running)'));

  let running;
  try {
    running = await startGateway(config, logger);
  } catch (err) {
    if (err instanceof NatsUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  printQrCodes(running);
  logger.info({ accounts: config.accounts.map((a) => a.id), nats: config.nats.url }, 'wa-connd running');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
