/**
 * Parity with an independent float64 reference of the HF Qwen2 / Qwen3 forward (test/fixtures):
 * logits within 1e-3, greedy tokens exactly, KV-cache decoding = full forward, and a padded
 * batch = each sequence alone.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { generate } from "../../src/model/generate.ts";
import { disposeBatch, tokenBatch } from "../../src/model/inputs.ts";
import { disposeCache, emptyCache } from "../../src/model/kv-cache.ts";
import type { Layout } from "../../src/model/matmul.ts";
import { forward, lmHead } from "../../src/model/qwen.ts";
import { disposeModel, loadModel, type QwenModel } from "../../src/model/weights.ts";
import { seededRng } from "../../src/util/rng.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { FIXTURE_NAMES, fixtureDir, readExpected } from "../helpers/fixtures.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

function fullLogits(model: QwenModel, ids: number[][], mask: number[][] | null): number[][][] {
  const batch = tokenBatch(ids, mask);
  const { hidden } = forward(model, batch);
  const logits = lmHead(model, hidden);
  const out = logits.arraySync() as number[][][];
  tf.dispose([hidden, logits]);
  disposeBatch(batch);
  return out;
}

const LAYOUTS: Layout[] = ["in-out", "out-in"];

describe.each(FIXTURE_NAMES.flatMap((name) => LAYOUTS.map((layout) => [name, layout] as const)))("%s, weights stored %s", (name, layout) => {
  let model: QwenModel;
  const expected = readExpected(name);
  beforeAll(() => {
    model = loadModel(fixtureDir(name), { layout });
  });
  afterAll(() => disposeModel(model));

  it.each(expected.cases.map((c, i) => [i, c] as const))("case %i: logits match the reference within 1e-3", (_, c) => {
    const logits = fullLogits(model, c.input_ids, c.attention_mask);
    const real = (b: number, t: number) => !c.attention_mask || c.attention_mask[b][t] === 1;
    const pick = <T>(f: (row: number[], b: number, t: number) => T) =>
      logits.flatMap((seq, b) => seq.flatMap((row, t) => (real(b, t) ? [f(row, b, t)] : [])));
    const lse = (row: number[]) => {
      const m = Math.max(...row);
      return m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    };
    expectClose(pick((row) => row.slice(0, 8)), pick((_, b, t) => c.logits_first8[b][t]), { atol: 1e-3 });
    expectClose(pick(lse), pick((_, b, t) => c.logsumexp[b][t]), { atol: 1e-3 });
    // a sum over the whole vocabulary accumulates 1000 float32 roundings: relative tolerance
    expectClose(pick((row) => row.reduce((a, x) => a + x, 0)), pick((_, b, t) => c.logits_sum[b][t]), { atol: 1e-3, rtol: 1e-4 });
    expect(pick((row) => row.indexOf(Math.max(...row)))).toEqual(pick((_, b, t) => c.argmax[b][t]));
  });

  it("greedy generation reproduces output_ids exactly", async () => {
    const g = expected.greedy;
    const [out] = await generate(model, [g.prompt], {
      temperature: 0, topK: 0, topP: 1, maxNewTokens: g.new_tokens, stopIds: [], rngs: [seededRng(0)],
    });
    expect([...g.prompt, ...out.tokens]).toEqual(g.output_ids);
  });

  it("KV-cache decoding one token at a time equals the full forward", () => {
    const ids = expected.cases[0].input_ids[0];
    const full = fullLogits(model, [ids], null)[0];
    let cache = emptyCache();
    const stepwise: number[][] = [];
    for (let t = 0; t < ids.length; t++) {
      const inp = {
        ids: tf.tensor2d([[ids[t]]], [1, 1], "int32"),
        positions: Int32Array.of(t),
        keyMask: tf.ones([1, t + 1]) as tf.Tensor2D,
      };
      const out = forward(model, { ...inp, cache });
      const logits = lmHead(model, out.hidden);
      stepwise.push((logits.arraySync() as number[][][])[0][0]);
      tf.dispose([inp.ids, inp.keyMask, out.hidden, logits]);
      disposeCache(cache);
      cache = out.cache!;
    }
    disposeCache(cache);
    expectClose(stepwise, full, { atol: 1e-4 });
  });

  it("a left-padded batch equals each sequence run alone", () => {
    const a = expected.cases[0].input_ids[0].slice(0, 9);
    const b = expected.cases[0].input_ids[0].slice(3, 7);
    const batch = fullLogits(model, [a, [0, 0, 0, 0, 0, ...b]], [a.map(() => 1), [0, 0, 0, 0, 0, 1, 1, 1, 1]]);
    expectClose(batch[0], fullLogits(model, [a], null)[0], { atol: 1e-4 });
    expectClose(batch[1].slice(5), fullLogits(model, [b], null)[0], { atol: 1e-4 });
  });
});
