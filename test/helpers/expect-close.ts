/** Float comparison that reports the worst element: max |a − e| and where it is. */
import { expect } from "vitest";

export type Tolerance = { atol?: number; rtol?: number };

function flatten(x: unknown, out: number[] = []): number[] {
  if (typeof x === "number") out.push(x);
  else if (ArrayBuffer.isView(x)) out.push(...(x as unknown as ArrayLike<number> & Iterable<number>));
  else if (Array.isArray(x)) for (const v of x) flatten(v, out);
  else throw new Error(`expectClose: cannot compare ${typeof x}`);
  return out;
}

export function expectClose(actual: unknown, expected: unknown, { atol = 1e-5, rtol = 0 }: Tolerance = {}): void {
  const a = flatten(actual);
  const e = flatten(expected);
  expect(a.length, "element count").toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    maxDiff = Math.max(maxDiff, Number.isNaN(diff) ? Infinity : diff);
    const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(e[i]));
    if (excess > worstExcess) [worst, worstExcess] = [i, excess];
  }
  if (worst >= 0)
    expect.fail(`not close: at flat index ${worst} actual ${a[worst]} vs expected ${e[worst]} (max |diff| ${maxDiff}, atol ${atol}, rtol ${rtol})`);
}
