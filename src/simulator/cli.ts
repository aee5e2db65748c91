// `npm run simulator -- --ws-port 0 --http-port 0 [--media-port 0] [--ca-file f] [--seed s]
// [--time-scale 0.002] [--host h]`
// Prints exactly one JSON line {"ws","http","media","rootPublicKey","caPem","caFile"?} on
// stdout when ready; logs are pino JSON on stderr.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    'ws-port': { type: 'string', default: '0' },
    'http-port': { type: 'string', default: '0' },
    'media-port': { type: 'string', default: '0' },
    'ca-file': { type: 'string' },
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
  mediaPort: port('media-port', values['media-port']),
  timeScale,
  logger,
  ...(values.host ? { host: values.host } : {}),
  ...(values.seed ? { seed: values.seed } : {}),
});

// The media certificate as a file, e.g. for NODE_EXTRA_CA_CERTS of a gateway started after this.
const caFile = values['ca-file'];
if (caFile) writeFileSync(caFile, sim.caPem, { mode: 0o644 });

const ready = {
  ws: sim.wsUrl,
  http: sim.httpUrl,
  media: sim.mediaUrl,
  rootPublicKey: sim.rootPublicKey,
  caPem: sim.caPem,
  ...(caFile ? { caFile } : {}),
};
process.stdout.write(`${JSON.stringify(ready)}\n`);

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
