// What injected faults do to one session: carrying out a fault action (stream error,
// conflict, failure, close, destroy, freeze), and the idle-timeout and recycle policies'
// timers. Apart from connection.ts, which speaks the protocol; this is the misbehaviour
// the simulator adds on top of it.
import { CLOSE_AFTER_ERROR_GRACE_MS, MIN_SCALED_TIMER_MS } from '../timing.js';
import type { FaultAction, TrafficKind } from '../faults/faults.js';
import type { Connection } from './connection.js';

/** WebSocket close code for a normal server-initiated close. */
const WS_NORMAL_CLOSE = 1000;

export class FaultEffects {
  /** `freeze` fault: nothing is read or written any more. */
  frozen = false;
  private lastActivityAt = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private recycleTimer: NodeJS.Timeout | undefined;
  private recycleKey: string | undefined;

  constructor(private readonly conn: Connection) {}

  /** Carries out a fault action (or a protocol-mandated close, like 515 after pairing). */
  apply(action: FaultAction, why: string): void {
    const conn = this.conn;
    if (conn.state === 'closed') return;
    conn.log.info({ action, why }, 'closing session');
    switch (action.type) {
      case 'stream-error':
        conn.sendAlways({ tag: 'stream:error', attrs: { code: String(action.code) } });
        this.closeAfterGrace();
        return;
      case 'conflict':
        conn.sendAlways({
          tag: 'stream:error',
          attrs: {},
          content: [{ tag: 'conflict', attrs: { type: 'replaced' } }],
        });
        this.closeAfterGrace();
        return;
      case 'failure':
        // As whatsmeow reads a temporary ban: `<failure reason=402 code expire=seconds>`.
        conn.sendAlways({
          tag: 'failure',
          attrs: {
            reason: String(action.reason),
            location: 'sim',
            ...(action.expire !== undefined ? { expire: String(action.expire) } : {}),
            ...(action.code !== undefined ? { code: String(action.code) } : {}),
          },
        });
        this.closeAfterGrace();
        return;
      case 'close':
        conn.ws.close(WS_NORMAL_CLOSE);
        return;
      case 'destroy':
        conn.ws.terminate();
        return;
      case 'freeze':
        this.frozen = true;
        // ws keeps its net.Socket private; pausing it stops reads (and so close replies).
        (conn.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
        return;
      default: {
        const never: never = action;
        return never;
      }
    }
  }

  /** The session logged in: its idle time counts from now. */
  loggedIn(): void {
    this.lastActivityAt = Date.now();
    this.applyPolicies();
  }

  /** Traffic of `kind` arrived at `now`: it resets the idle timeout if the policy says so. */
  activity(kind: TrafficKind, now: number): void {
    const policy = this.conn.state === 'logged-in' ? this.conn.faults().idleTimeout : undefined;
    if (policy?.resetBy.includes(kind)) this.lastActivityAt = now;
  }

  /** (Re)arms policy timers after login or when faults change; no timers without a policy. */
  applyPolicies(): void {
    if (this.conn.state !== 'logged-in') return;
    const { idleTimeout, recycle } = this.conn.faults();
    // Re-arm from scratch: the period may have changed.
    this.clearTimer('idle');
    if (idleTimeout) this.armIdle();
    const key = recycle ? JSON.stringify(recycle) : undefined;
    if (key !== this.recycleKey) {
      this.clearTimer('recycle');
      this.recycleKey = key;
      if (recycle) {
        this.recycleTimer = this.conn.later(this.scaled(recycle.everyMs), () => {
          this.recycleTimer = undefined;
          const current = this.conn.faults().recycle;
          if (current) this.apply({ type: 'stream-error', code: current.code }, 'recycle policy');
        });
      }
    }
  }

  /** The connection closed (and cleared its timers). */
  closed(): void {
    this.idleTimer = undefined;
    this.recycleTimer = undefined;
  }

  private closeAfterGrace(): void {
    this.conn.later(CLOSE_AFTER_ERROR_GRACE_MS, () => this.conn.ws.close(WS_NORMAL_CLOSE));
  }

  private scaled(ms: number): number {
    return Math.max(MIN_SCALED_TIMER_MS, ms * this.conn.ctx.timeScale);
  }

  private armIdle(): void {
    if (this.idleTimer) return;
    const policy = this.conn.faults().idleTimeout;
    if (!policy) return;
    const due = this.lastActivityAt + this.scaled(policy.afterMs) - Date.now();
    this.idleTimer = this.conn.later(Math.max(0, due), () => {
      this.idleTimer = undefined;
      const current = this.conn.faults().idleTimeout;
      if (!current) return;
      // While silenced the server is "dead": it neither talks nor enforces policies.
      if (!this.conn.silenced && Date.now() - this.lastActivityAt >= this.scaled(current.afterMs)) {
        this.apply({ type: 'stream-error', code: current.code }, 'idle-timeout policy');
        return;
      }
      this.armIdle();
    });
  }

  private clearTimer(which: 'idle' | 'recycle'): void {
    const t = which === 'idle' ? this.idleTimer : this.recycleTimer;
    if (!t) return;
    this.conn.cancel(t);
    if (which === 'idle') this.idleTimer = undefined;
    else {
      this.recycleTimer = undefined;
      this.recycleKey = undefined;
    }
  }
}
