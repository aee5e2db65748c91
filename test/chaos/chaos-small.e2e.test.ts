/**
 * The chaos suite's small run inside `npm test` (docs/testing.md, "Chaos"): the same
 * harness as `npm run chaos` — real nats-server, simulator process, gateway child, webhook
 * receiver — at ~300 sends over 2 accounts with a few simulator faults, gateway SIGKILLs
 * (one while it replays a backlog, one during start-up) and a nats-server restart.
 * CHAOS_SEED=N replays a failing run's schedule.
 */
import { describe, expect, it } from 'vitest';
import { SMALL_SCALE } from '../support/chaos/plan.js';
import { runChaos } from '../support/chaos/run.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);
/** The run is ~25 s of schedule plus start-up and settling; this is a hang, not a slow box. */
const RUN_TIMEOUT_MS = 240_000;

describe('the gateway under chaos (small run)', () => {
  it(
    `delivers every accepted send exactly once, in order, with no gap (seed ${SEED})`,
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const lines: string[] = [];
      const result = await runChaos({ seed: SEED, scale: SMALL_SCALE, log: (l) => lines.push(l) });
      process.stderr.write(`${[...lines, result.line].join('\n')}\n`);
      const why = `seed ${SEED}: ${JSON.stringify(result.findings, null, 2)}\n${JSON.stringify(result.extra)}`;
      expect(result.counts, why).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, gaps: 0 });
      expect(result.ok, why).toBe(true);
      // The run did what it claims: sends accepted, faults, kills and a restart happened.
      expect(result.counts.accepted).toBeGreaterThan(SMALL_SCALE.sends * 0.9);
      expect(result.counts.faults).toBe(SMALL_SCALE.faults);
      expect(result.counts.kills).toBeGreaterThanOrEqual(SMALL_SCALE.kills);
      expect(result.counts.restarts).toBe(SMALL_SCALE.natsRestarts);
      expect(result.extra['webhooks']).toBeGreaterThan(0);
    },
  );
});
