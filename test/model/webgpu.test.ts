/**
 * The forward pass, generation and the chunked log-prob gradient on the webgpu backend (CI:
 * SwiftShader, a software GPU): fixture parity against the float64 reference, the gradient
 * against the wasm backend, no leaks, and no synchronous GPU read (tfjs-webgpu can only do one
 * through a browser canvas, so the backend here fails any). Sized for SwiftShader's speed: the two
 * 2-layer fixtures, a handful of tokens.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLora, disposeLora } from "../../src/lora/lora.ts";
import { chooseBackend, initBackend } from "../../src/model/backend.ts";
import { generate } from "../../src/model/generate.ts";
import { isRealGpu, probeGpu } from "../../src/model/gpu.ts";
import { disposeBatch, tokenBatch } from "../../src/model/inputs.ts";
import { forward, lmHead } from "../../src/model/qwen.ts";
import { disposeModel, loadModel, trainableCopy, type QwenModel } from "../../src/model/weights.ts";
import { buildBatch, disposeBatch as disposeTrainBatch } from "../../src/rl/batch.ts";
import { sampledLogprobs } from "../../src/rl/logprobs.ts";
import { seededRng } from "../../src/util/rng.ts";
import { syntheticEpisodes } from "../helpers/episodes.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { FIXTURE_NAMES, fixtureDir, readExpected } from "../helpers/fixtures.ts";
import { randomizeLora } from "../lora/helpers.ts";
import { failSyncReads } from "../helpers/sync-reads.ts";
import { SOFTWARE_GPU_MS, webgpuSkipReason } from "../helpers/webgpu.ts";

type GradCase = { logprobs: number[]; entropy: number[]; grads: number[][] };

/**
 * Log-probs, entropies and ∂(Σ w·lp)/∂θ on the active backend: θ = a random rank-4 LoRA on every
 * linear of `name`, or (full) every weight of a trainable copy, which includes the tied head.
 */
async function logprobGrads(name: string, full: boolean): Promise<GradCase> {
  const base = loadModel(fixtureDir(name), { layout: "in-out" }); // one layout on both backends: gradients compare element by element
  const copy = full ? trainableCopy(base) : undefined;
  const lora = full ? undefined : createLora(base, { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] }, 3);
  if (lora) randomizeLora(lora, 5);
  const model = copy?.model ?? base;
  const variables = copy?.variables ?? lora!.variables;
  const batch = buildBatch(syntheticEpisodes(), [1, 1, 1], 0);
  const opts = { temperature: 0.8, chunkRows: 7, vocabBlock: 300, adapters: lora?.adapters }; // 4 blocks of a 1000 vocabulary
  const weights = tf.tensor1d(Array.from({ length: batch.tokenCount }, (_, i) => Math.sin(i + 1)));
  let stats: tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = sampledLogprobs(model, batch.seq, opts);
    stats = [tf.keep(out.logprobs), tf.keep(out.entropy)];
    return out.logprobs.mul(weights).sum() as tf.Scalar;
  }, variables);
  const result = {
    logprobs: Array.from(await stats[0].data()),
    entropy: Array.from(await stats[1].data()),
    grads: await Promise.all(variables.map(async (v) => Array.from(await grads[v.name].data()))),
  };
  tf.dispose([value, weights, ...stats, ...Object.values(grads)]);
  disposeTrainBatch(batch);
  if (lora) disposeLora(lora);
  if (copy) disposeModel(copy.model);
  disposeModel(base);
  return result;
}

describe.skipIf(webgpuSkipReason !== undefined)("webgpu backend", { timeout: SOFTWARE_GPU_MS }, () => {
  const onWasm = new Map<string, GradCase>();
  const cases = [["qwen3-tiny", false], ["qwen2-tiny", true]] as const;

  beforeAll(async () => {
    await initBackend("wasm");
    for (const [name, full] of cases) onWasm.set(name, await logprobGrads(name, full));
    await initBackend("webgpu");
    failSyncReads();
  }, SOFTWARE_GPU_MS);

  it("auto picks webgpu only for a real GPU, and says why", async () => {
    const { adapter } = await probeGpu();
    const { name, reason } = await chooseBackend("auto");
    expect(name).toBe(isRealGpu(adapter!) ? "webgpu" : "wasm");
    if (name === "wasm") expect(reason).toMatch(/software adapter.*--backend webgpu/);
    expect(tf.getBackend()).toBe("webgpu");
  });

  describe.each(FIXTURE_NAMES)("%s", (name) => {
    let model: QwenModel;
    const expected = readExpected(name);
    beforeAll(() => {
      model = loadModel(fixtureDir(name));
    });
    afterAll(() => disposeModel(model));

    it("logits match the float64 reference within 1e-3, argmax exactly, every case", async () => {
      for (const c of expected.cases) {
        const batch = tokenBatch(c.input_ids, c.attention_mask);
        const { hidden } = forward(model, batch);
        const logits = lmHead(model, hidden);
        const rows = (await logits.array()) as number[][][];
        tf.dispose([hidden, logits]);
        disposeBatch(batch);
        const real = (b: number, t: number) => !c.attention_mask || c.attention_mask[b][t] === 1;
        const pick = <T>(f: (row: number[], b: number, t: number) => T) => rows.flatMap((seq, b) => seq.flatMap((row, t) => (real(b, t) ? [f(row, b, t)] : [])));
        expectClose(pick((row) => row.slice(0, 8)), pick((_, b, t) => c.logits_first8[b][t]), { atol: 1e-3 });
        expectClose(pick((row) => row.reduce((a, x) => a + x, 0)), pick((_, b, t) => c.logits_sum[b][t]), { atol: 1e-3, rtol: 1e-4 });
        expect(pick((row) => row.indexOf(Math.max(...row)))).toEqual(pick((_, b, t) => c.argmax[b][t]));
      }
    });

    it("greedy generation reproduces output_ids exactly, and repeated calls leave no tensors", async () => {
      const g = expected.greedy;
      const opts = { temperature: 0, topK: 0, topP: 1, maxNewTokens: g.new_tokens, stopIds: [], rngs: [seededRng(0)] };
      const [first] = await generate(model, [g.prompt], opts);
      expect([...g.prompt, ...first.tokens]).toEqual(g.output_ids);
      const before = tf.memory().numTensors;
      await generate(model, [g.prompt, g.prompt.slice(2)], { ...opts, maxNewTokens: 3, rngs: [seededRng(0), seededRng(1)] });
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it.each(cases)("%s: the chunked log-prob op and its gradient (full fine-tune: %s) match the wasm backend", async (name, full) => {
    const before = tf.memory().numTensors;
    const got = await logprobGrads(name, full);
    expect(tf.memory().numTensors).toBe(before);
    const want = onWasm.get(name)!;
    expectClose(got.logprobs, want.logprobs, { atol: 1e-4 });
    expectClose(got.entropy, want.entropy, { atol: 1e-4 });
    expect(got.grads.length).toBe(want.grads.length);
    // float32 sums in a different order: relative to each tensor's largest gradient
    got.grads.forEach((g, i) => {
      const scale = Math.max(...want.grads[i].map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expectClose(g, want.grads[i], { atol: 1e-4 * scale });
    });
  });
});
