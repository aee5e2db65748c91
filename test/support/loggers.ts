import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export const silent: Logger = pino({ level: 'silent' });

/** A logger that keeps its JSON lines for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, dest), lines };
}
