import { nextRandom } from '../../machines/account/random.js';

/** The machine's seeded PRNG as a stream of numbers in [0, 1), so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const [value, next] = nextRandom(state);
    state = next;
    return value;
  };
}
