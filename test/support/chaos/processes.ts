/**
 * The real processes of a chaos run or a soak: the simulator as its own process (the
 * CLI), and a supervised gateway child per group of accounts that the run may SIGKILL at
 * any instant and that is started again (on the same data dir) when it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BufferJSON, type AuthenticationCreds } from '@whiskeysockets/baileys';
import { REPO_ROOT, spawnGateway, type GatewayChild, type GatewayConfig } from '../gateway-child.js';

/** tsx compiles the simulator on start; a cold start on a busy 2-core box takes seconds. */
const SIM_START_DEADLINE_MS = 30_000;
/** A gateway that died on its own is started again after this (a supervisor's restart delay). */
const RESPAWN_DELAY_MS = 200;

export type SimProcess = {
  ws: string;
  http: string;
  rootPublicKey: string;
  pid: number;
  stop(): Promise<void>;
};

/** `src/simulator/cli.ts` as a child process; its policy timers multiplied by `timeScale`. */
export async function startSimProcess(seed: string, timeScale = 1): Promise<SimProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/simulator/cli.ts',
      '--log-level',
      'warn',
      '--seed',
      seed,
      '--time-scale',
      String(timeScale),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr.resume();
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start')), SIM_START_DEADLINE_MS);
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return {
    ...(JSON.parse(line) as { ws: string; http: string; rootPublicKey: string }),
    pid: child.pid ?? 0,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export type Provisioned = { phone: string; creds: AuthenticationCreds; keys: Record<string, unknown> };

/** A registered device at the simulator, with prekeys so a first login uploads none. */
export async function provisionAt(http: string): Promise<Provisioned> {
  const res = await fetch(`${http}/accounts`, { method: 'POST', body: JSON.stringify({ preKeys: 20 }) });
  const r = JSON.parse(await res.text(), BufferJSON.reviver) as {
    ok: boolean;
    account: { phone: string };
    creds: AuthenticationCreds;
    keys: Record<string, unknown>;
  };
  if (!r.ok) throw new Error('simulator refused to provision an account');
  return { phone: r.account.phone, creds: r.creds, keys: r.keys };
}

/** `expected`: SIGKILLed by the run, or stopped at its end. */
export type Exit = { pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean };

/**
 * One gateway process for a fixed set of accounts, kept running: `kill()` SIGKILLs the
 * current child, `start()` spawns the next one; a child that exits on its own (say, NATS
 * was away at its start: exit 3) is started again after a short delay and its exit kept.
 */
export class GatewayGroup {
  readonly children: GatewayChild[] = [];
  readonly exits: Exit[] = [];
  private current: GatewayChild | undefined;
  private readonly killedByUs = new Set<number>();
  private stopping = false;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    readonly index: number,
    readonly accounts: string[],
    private readonly config: () => GatewayConfig,
    private readonly dir: string,
  ) {}

  get child(): GatewayChild | undefined {
    return this.current;
  }

  /** Serialised: a kill and a respawn never interleave. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.busy.then(op, op);
    this.busy = next.catch(() => undefined);
    return next;
  }

  start(): Promise<GatewayChild> {
    return this.serial(() => this.spawnNow());
  }

  private async spawnNow(): Promise<GatewayChild> {
    const child = await spawnGateway(this.dir, this.config());
    this.children.push(child);
    this.current = child;
    void child.exited.then((r) => {
      const killed = this.killedByUs.has(child.pid);
      this.exits.push({ pid: child.pid, code: r.code, signal: r.signal, expected: killed || this.stopping });
      if (killed || this.stopping || this.current !== child) return;
      this.current = undefined;
      setTimeout(() => {
        if (!this.stopping && this.current === undefined) void this.start();
      }, RESPAWN_DELAY_MS);
    });
    return child;
  }

  /** SIGKILL the current child (if any) and wait for it to be gone. */
  kill(): Promise<boolean> {
    return this.serial(async () => {
      const c = this.current;
      if (!c) return false;
      this.killedByUs.add(c.pid);
      this.current = undefined;
      await c.kill('SIGKILL');
      return true;
    });
  }

  /** SIGTERM (a clean stop) and no more restarts. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.busy;
    await this.current?.stop();
  }

  /** Everything every child of the group wrote: the logs that must not hold message text. */
  logs(): string {
    return this.children.map((c) => c.allOutput()).join('\n');
  }

  /** Exits nobody asked for, as `pid:code/signal`. */
  unexpectedExits(): string[] {
    return this.exits.filter((e) => !e.expected).map((e) => `${e.pid}:${e.code ?? e.signal}`);
  }
}
