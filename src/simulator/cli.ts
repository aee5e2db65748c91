// `npm run simulator -- --ws-port 0 --http-port 0 [--seed s] [--time-scale 0.002] [--host h]`
// Prints exactly one JSON line {"ws","http","rootPublicKey"} on stdout when ready; logs are
// pino JSON on stderr.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    'ws-port': { type: 'string', default: '0' },
    'http-port': { type: 'string', default: '0' },
    host: { type: 'string' },
    seed: { type: 'string' },
    'time-scale': { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'info' },
  },
  strict: true,
});

const logger = pino({ level: values['log-level'] }, pino.destination(2));

// libsignal prints session dumps (keys included) with console.info/warn; stdout carries only
// the ready line and logs must never hold keys, so console output is dropped here.
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[method] = () => undefined;
}

function port(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    logger.fatal({ option: name, value }, 'invalid port');
    process.exit(2);
  }
  return n;
}

const timeScale = Number(values['time-scale']);
if (!(timeScale > 0)) {
  logger.fatal({ option: 'time-scale', value: values['time-scale'] }, 'time-scale must be a number > 0');
  process.exit(2);
}

const sim = await startSimulator({
  wsPort: port('ws-port', values['ws-port']),
  httpPort: port('http-port', values['http-port']),
  timeScale,
  logger,
  ...(values.host ? { host: values.host } : {}),
  ...(values.seed ? { seed: values.seed } : {}),
});

process.stdout.write(`${JSON.stringify({ ws: sim.wsUrl, http: sim.httpUrl, rootPublicKey: sim.rootPublicKey })}\n`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    void sim.close().then(() => process.exit(0));
  });
}
// Bad input is contained per connection; anything that still escapes is logged, not fatal.
process.on('uncaughtException', (err) => logger.error({ err: err.message }, 'uncaught exception'));
process.on('unhandledRejection', (err) =>
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'unhandled rejection'),
);
