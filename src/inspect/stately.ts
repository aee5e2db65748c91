/**
 * The Stately inspector (`inspect: true` / WA_CONND_INSPECT=true): every account actor's
 * inspection events go to stately.ai through `@statelyai/inspect`'s Sky inspector, and a
 * browser that reaches stately.ai watches the machines live at the session URL this
 * logs (`Stately inspector session` at info).
 *
 * It is a debugging aid that talks to a third party, so it must never hurt the gateway:
 * it is loaded only when enabled, every call into it is contained (a failure is logged
 * once and the inspector switched off), and phone numbers are removed from contexts
 * and events before they leave (the machine's context holds no keys or message text).
 */
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';

export type InspectHook = (account: string, event: InspectionEvent) => void;

/** The library announces its session only with console.log; this is the line's prefix. */
const SESSION_URL = /https:\/\/stately\.ai\/\S*inspect\/\S+/;

interface MinimalInspector {
  inspect: { next?: (event: InspectionEvent) => void };
  stop(): void;
}

export type SkyFactory = (options: {
  onerror: (error: Error) => void;
  sanitizeContext: (context: Record<string, unknown>) => Record<string, unknown>;
  sanitizeEvent: <E extends { type: string }>(event: E) => E;
}) => MinimalInspector;

const hidePhone = <T extends Record<string, unknown>>(o: T): T =>
  'phone' in o || 'pairPhone' in o
    ? {
        ...o,
        ...('phone' in o ? { phone: '[redacted]' } : {}),
        ...('pairPhone' in o ? { pairPhone: '[redacted]' } : {}),
      }
    : o;

/**
 * The hook for `GatewayOptions.inspect`. `factory` is the Sky inspector by default;
 * tests pass their own (stately.ai is out of reach there).
 */
export async function statelyInspector(
  logger: Logger,
  factory?: SkyFactory,
): Promise<{ hook: InspectHook; stop(): void }> {
  const log = logger.child({ component: 'stately-inspector' });
  let inspector: MinimalInspector | null = null;
  let failed = false;
  const fail = (err: unknown, where: string) => {
    if (failed) return;
    failed = true;
    log.warn({ err, where }, 'Stately inspector failed; switched off (the gateway is unaffected)');
    try {
      inspector?.stop();
    } catch {
      // already broken; nothing more to do
    }
    inspector = null;
  };
  try {
    const make = factory ?? (await loadSky(log));
    inspector = make({
      onerror: (error) => log.warn({ err: error }, 'Stately inspector connection error'),
      sanitizeContext: hidePhone,
      sanitizeEvent: hidePhone,
    });
  } catch (err) {
    fail(err, 'start');
  }
  return {
    hook: (_account, event) => {
      if (!inspector) return;
      try {
        inspector.inspect.next?.(event);
      } catch (err) {
        fail(err, 'inspect');
      }
    },
    stop: () => {
      try {
        inspector?.stop();
      } catch (err) {
        log.debug({ err }, 'Stately inspector stop failed');
      }
      inspector = null;
    },
  };
}

async function loadSky(log: Logger): Promise<SkyFactory> {
  const { createSkyInspector } = await import('@statelyai/inspect');
  // Catch the session URL the library prints, whether console goes to stdout or
  // through pino (guardConsole), and log it where an operator looks.
  const previous = console.log;
  console.log = (...args: unknown[]) => {
    const url = typeof args[0] === 'string' ? SESSION_URL.exec(args[0])?.[0] : undefined;
    if (url)
      log.info({ statelyUrl: url }, `Stately inspector session: open ${url} in a browser that reaches stately.ai`);
    else previous(...args);
  };
  return (options) => createSkyInspector(options) as unknown as MinimalInspector;
}
