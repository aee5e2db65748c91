/**
 * Executes a planned simulator fault through the control API (docs/simulator.md): a
 * one-shot action on the account's session, or a condition set for `holdMs` and then
 * cleared. Faults that stop the account by policy (440, 411, 403: the machine does not
 * fight them) are followed by the operator's `connect`, as a person would do.
 * Not run: `failure 401` (logged out: the account needs a new pairing, which ends its
 * part in the run) — its policy is proven in test/runtime/policy.e2e.test.ts.
 */
import type { FaultKind, PlannedFault } from './plan.js';

export type FaultTarget = {
  /** The simulator's control API. */
  http: string;
  /** The simulator's phone number of a gateway account. */
  phoneOf: (account: string) => string;
  /** The operator's `connect` for an account the policy stopped. */
  reconnect: (account: string) => Promise<void>;
  /** Waits this long (the run's clock; ends early when the run is stopping). */
  sleep: (ms: number) => Promise<void>;
};

type Exec = (t: FaultTarget, f: PlannedFault, phone: string) => Promise<void>;

async function call(http: string, method: string, route: string, body: unknown): Promise<void> {
  const res = await fetch(`${http}${route}`, { method, body: JSON.stringify(body) });
  const reply = (await res.json()) as { ok: boolean; error?: { code: string; message: string } };
  if (!reply.ok) throw new Error(`simulator ${method} ${route}: ${reply.error?.code} ${reply.error?.message}`);
}

const action =
  (a: Record<string, unknown>, thenConnect = false): Exec =>
  async (t, f, phone) => {
    await call(t.http, 'POST', '/actions', { account: phone, ...a });
    if (thenConnect) {
      await t.sleep(f.holdMs);
      await t.reconnect(f.account);
    }
  };

const condition =
  (set: (f: PlannedFault) => Record<string, unknown>, thenConnect = false): Exec =>
  async (t, f, phone) => {
    const conditions = set(f);
    await call(t.http, 'PUT', '/faults', { account: phone, ...conditions });
    try {
      await t.sleep(f.holdMs);
    } finally {
      await call(t.http, 'DELETE', '/faults', { account: phone, keys: Object.keys(conditions) });
    }
    if (thenConnect) await t.reconnect(f.account);
  };

/** One executor per kind the plan knows (plan.ts FAULT_KINDS); the compiler checks none is missing. */
export const FAULTS: Record<FaultKind, Exec> = {
  'stream-error-408': action({ type: 'stream-error', code: 408 }),
  'stream-error-500': action({ type: 'stream-error', code: 500 }),
  'stream-error-503': action({ type: 'stream-error', code: 503 }),
  'stream-error-515': action({ type: 'stream-error', code: 515 }),
  'stream-error-411': action({ type: 'stream-error', code: 411 }, true),
  conflict: action({ type: 'conflict' }, true),
  'failure-403': action({ type: 'failure', reason: 403 }, true),
  close: action({ type: 'close' }),
  destroy: action({ type: 'destroy' }),
  freeze: action({ type: 'freeze' }),
  silence: condition(() => ({ silence: true })),
  'ack-latency': condition((f) => ({ ackLatencyMs: f.param })),
  'ping-latency': condition((f) => ({ pingLatencyMs: f.param })),
  'reject-sends': condition(() => ({ rejectSends: { error: '479' } })),
  // A login refused with 503 while the condition holds: the account keeps backing off.
  'login-failure': async (t, f, phone) => {
    await call(t.http, 'PUT', '/faults', { account: phone, loginFailure: { reason: 503 } });
    try {
      await call(t.http, 'POST', '/actions', { account: phone, type: 'close' });
      await t.sleep(f.holdMs);
    } finally {
      await call(t.http, 'DELETE', '/faults', { account: phone, keys: ['loginFailure'] });
    }
  },
  // Media uploads refused (the media host): no effect on text sends; media kinds fail over it.
  'reject-uploads': condition(() => ({ rejectUploads: { status: 500 } })),
  'idle-timeout': condition((f) => ({
    idleTimeout: {
      afterMs: 200 + f.param,
      resetBy: ['message', 'receipt', 'presence', 'iq', 'notification'],
      code: 408,
    },
  })),
  recycle: condition((f) => ({ recycle: { everyMs: 300 + f.param, code: 408 } })),
  receipts: condition((f) => ({
    receipts: { delivery: true, read: f.param % 2 === 0, deliveryDelayMs: f.param, readDelayMs: f.param * 2 },
  })),
};

/** Runs one fault; a simulator error (say, no session to act on) is returned, not thrown. */
export async function runFault(t: FaultTarget, f: PlannedFault): Promise<string | undefined> {
  try {
    await FAULTS[f.kind](t, f, t.phoneOf(f.account));
    return undefined;
  } catch (err) {
    return `${f.kind} on ${f.account}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
