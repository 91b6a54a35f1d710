/**
 * A GRPO update phase on the webgpu backend (CI: SwiftShader) against the same phase on wasm:
 * reference pass, KL, ratio clip, LoRA dropout, micro-batches (with and without a shared prompt),
 * two Adam updates, twice in a row. Loss, KL, clip fraction, entropy, gradient norm and the
 * updated LoRA weights agree within float32 rounding; `tf.memory().numTensors` stays flat.
 * Hand-made episodes on a 2-layer fixture keep it small enough for a software GPU; the whole
 * trainer (rollouts through the sandbox included) runs in `trirl train --backend webgpu` (README).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { RunConfig } from "../../src/config.ts";
import { createLora, disposeLora, drawDropout } from "../../src/lora/lora.ts";
import { initBackend } from "../../src/model/backend.ts";
import { disposeModel, LINEAR_NAMES, loadModel } from "../../src/model/weights.ts";
import { createAdam, disposeAdam } from "../../src/rl/adam.ts";
import { IN_PROCESS } from "../../src/rl/pool.ts";
import { policyUpdate, type UpdateStats } from "../../src/rl/update.ts";
import { seededRng } from "../../src/util/rng.ts";
import { syntheticEpisodes } from "../helpers/episodes.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { fixtureDir } from "../helpers/fixtures.ts";
import { failSyncReads } from "../helpers/sync-reads.ts";
import { SOFTWARE_GPU_MS, webgpuSkipReason } from "../helpers/webgpu.ts";
import { randomizeLora } from "../lora/helpers.ts";

const DEFAULTS = RunConfig.parse({});
const LR = DEFAULTS.optim.lr;

type Run = { stats: UpdateStats[]; weights: number[][]; leaked: number };

/** Two update phases (the same episodes, as two GRPO steps would see them) from a random non-zero LoRA. */
async function twoPhases(sharePrefix: boolean): Promise<Run> {
  const model = loadModel(fixtureDir("qwen3-tiny"));
  const lora = createLora(model, { rank: 4, alpha: 8, dropout: 0.1, targets: [...LINEAR_NAMES] }, 3);
  randomizeLora(lora, 5);
  const adam = createAdam(lora.variables);
  const episodes = syntheticEpisodes([14, 9, 17, 11]);
  const advantages = Float32Array.from([1, -1, 0.5, -0.5]);
  const stats: UpdateStats[] = [];
  let before = 0;
  for (let step = 0; step < 2; step++) {
    if (step === 1) before = tf.memory().numTensors;
    stats.push(await policyUpdate({
      model, adam, optim: DEFAULTS.optim, temperature: 0.9, padId: 0, pool: IN_PROCESS,
      trainable: { adapters: lora.adapters, variables: lora.variables, spec: { kind: "lora", config: lora.config }, dropout: drawDropout(lora, seededRng(0, step, 0x10ad)) },
      loss: { ...DEFAULTS.loss, klCoef: 0.05, updatesPerStep: 2, microBatch: 2, chunkRows: 16, sharePrefix },
    }, episodes, advantages));
  }
  const leaked = tf.memory().numTensors - before;
  const weights = await Promise.all(lora.variables.map(async (v) => Array.from(await v.data())));
  disposeAdam(adam);
  disposeLora(lora);
  disposeModel(model);
  return { stats, weights, leaked };
}

describe.skipIf(webgpuSkipReason !== undefined)("a GRPO update on webgpu", { timeout: SOFTWARE_GPU_MS }, () => {
  const onWasm = new Map<boolean, Run>();
  beforeAll(async () => {
    await initBackend("wasm");
    for (const share of [false, true]) onWasm.set(share, await twoPhases(share));
    await initBackend("webgpu");
    failSyncReads();
  }, SOFTWARE_GPU_MS);

  it.each([false, true])("sharePrefix %s: loss, KL, clip fraction, entropy, gradient norm and LoRA weights match wasm; no tensor leaks", async (share) => {
    const got = await twoPhases(share);
    const want = onWasm.get(share)!;
    expect(got.leaked).toBe(0);
    expect(want.stats[1].kl).toBeGreaterThan(0); // the LoRA is non-zero: policy ≠ reference
    expect(want.stats[1].clipFraction).toBeGreaterThan(0);
    const row = (s: UpdateStats) => [s.loss, s.kl, s.clipFraction, s.entropy, s.gradNorm, s.tokens];
    expectClose(got.stats.map(row), want.stats.map(row), { atol: 1e-6, rtol: 1e-4 });
    // four Adam updates move a weight by up to ≈ 4·lr; they agree to a small fraction of one update
    const diff = Math.max(...got.weights.flatMap((w, i) => w.map((x, j) => Math.abs(x - want.weights[i][j]))));
    expect(diff).toBeLessThan(0.01 * LR);
  });
});
