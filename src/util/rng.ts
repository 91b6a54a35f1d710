/**
 * Seeded pseudo-random numbers (xoshiro128**), so every run is reproducible from its config.
 * `seededRng(seed, ...path)` derives independent streams (per step, scenario, episode) by hashing
 * the path; the state is four uint32 words and can be saved and restored for `--resume`.
 * Not cryptographic.
 */
export type RngState = readonly [number, number, number, number];

export type Rng = {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Current state; `rngFromState(s)` continues the same sequence. */
  state(): RngState;
};

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

export function rngFromState(initial: RngState): Rng {
  const s = Uint32Array.from(initial);
  // an all-zero state would emit zeros forever
  if (s[0] === 0 && s[1] === 0 && s[2] === 0 && s[3] === 0) s[0] = 1;
  const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  return {
    next() {
      const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
      const t = s[1] << 9;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11);
      return result / 4294967296;
    },
    state: () => [s[0], s[1], s[2], s[3]],
  };
}

/** A stream determined by `seed` and an optional path of integers (step, scenario, episode…). */
export function seededRng(seed: number, ...path: number[]): Rng {
  let h = splitmix32(seed >>> 0)();
  for (const p of path) h = splitmix32((h ^ Math.imul(p + 1, 0x85ebca6b)) >>> 0)();
  const mix = splitmix32(h);
  return rngFromState([mix(), mix(), mix(), mix()]);
}

/** Integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** Standard normal sample (Box–Muller). */
export function randNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
