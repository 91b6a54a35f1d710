/**
 * Model speed benchmark (not a test): prefill tokens/s, decode tokens/s at batch 1 and 16, peak
 * memory, and the backend's own matmul GFLOP/s on this machine, so the model's share of peak is
 * visible. Models: the tiny default and a Qwen2.5-0.5B-shaped model with random weights.
 *   npx tsx bench/model.bench.ts [--backend wasm] [--models tiny,0.5b] [--out bench/results/model.json]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../src/model/backend.ts";
import { generate } from "../src/model/generate.ts";
import { ensureTinyModel } from "../src/model/tiny-model.ts";
import { disposeModel, loadModel, modelTensors, type QwenModel } from "../src/model/weights.ts";
import { seededRng } from "../src/util/rng.ts";
import { QWEN25_05B_CONFIG, randomModel } from "./random-model.ts";

const { values: args } = parseArgs({
  options: {
    backend: { type: "string", default: "wasm" },
    models: { type: "string", default: "tiny,0.5b" },
    out: { type: "string", default: "bench/results/model.json" },
    // the 0.5b shape does not fit the wasm heap (weights + XNNPACK's packed copies > 4 GiB):
    // run fewer of its layers and extrapolate linearly in the layer count
    layers: { type: "string", default: "24" },
  },
});

const peak = { rssMb: 0, tensorMb: 0 };
function samplePeak(): void {
  peak.rssMb = Math.max(peak.rssMb, process.memoryUsage().rss / 2 ** 20);
  peak.tensorMb = Math.max(peak.tensorMb, tf.memory().numBytes / 2 ** 20);
}

async function timeIt(f: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  samplePeak();
  return (performance.now() - t0) / 1000;
}

async function matmulGflops(n: number): Promise<number> {
  const [a, b] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  await tf.matMul(a, b).data();
  const reps = 5;
  const s = await timeIt(async () => {
    for (let i = 0; i < reps; i++) {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }
  });
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / s / 1e9;
}

/** Forward FLOPs per token, 2 · (matmul parameters), ignoring attention's T-dependent part. */
function flopsPerToken(model: QwenModel): number {
  const c = model.config;
  const perLayer = c.hiddenSize * (c.numHeads + 2 * c.numKvHeads) * c.headDim + c.numHeads * c.headDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  return 2 * (c.numLayers * perLayer);
}

async function benchModel(name: string, model: QwenModel, promptLen: number, newTokens: number) {
  const run = (batch: number, maxNewTokens: number) => {
    const prompts = Array.from({ length: batch }, (_, r) => Array.from({ length: promptLen }, (_, t) => (r * 131 + t * 7) % 1000));
    const rngs = prompts.map((_, r) => seededRng(r));
    return generate(model, prompts, { temperature: 1, topK: 0, topP: 1, maxNewTokens, stopIds: [], rngs });
  };
  await run(1, 2); // warm-up: kernel setup and first allocations
  const result: Record<string, number | string> = { model: name, promptLen, newTokens };
  for (const batch of [1, 16]) {
    const prefillS = await timeIt(() => run(batch, 1)); // prefill + last-position logits + 1 sample
    const totalS = await timeIt(() => run(batch, 1 + newTokens));
    result[`prefill_tok_s_b${batch}`] = (batch * promptLen) / prefillS;
    result[`decode_tok_s_b${batch}`] = (batch * newTokens) / (totalS - prefillS);
  }
  const body = flopsPerToken(model);
  const head = 2 * model.config.hiddenSize * model.config.vocabSize;
  result.gflop_per_token_body = body / 1e9;
  result.gflop_per_token_lm_head = head / 1e9;
  result.prefill_gflops_b16 = ((result.prefill_tok_s_b16 as number) * body) / 1e9;
  return result;
}

async function main() {
  const backend = await initBackend(args.backend as BackendName);
  const report: Record<string, unknown> = { backend, date: new Date().toISOString(), cpus: (await import("node:os")).cpus().length };
  report.matmul_gflops = { n256: await matmulGflops(256), n1024: await matmulGflops(1024) };
  console.error(`matmul GFLOP/s: ${JSON.stringify(report.matmul_gflops)}`);
  const results = [];
  for (const which of (args.models ?? "").split(",")) {
    const layers = Number(args.layers);
    const model = which === "tiny" ? loadModel(ensureTinyModel()) : randomModel({ ...QWEN25_05B_CONFIG, num_hidden_layers: layers }, 0);
    samplePeak();
    const r = which === "tiny" ? await benchModel("tiny-qwen3", model, 128, 32) : await benchModel(`qwen2.5-0.5b-shaped (random), ${layers} of 24 layers`, model, 64, 8);
    r.params_m = modelTensors(model.weights).reduce((a, t) => a + t.size, 0) / 1e6;
    console.error(JSON.stringify(r));
    results.push(r);
    disposeModel(model);
  }
  report.models = results;
  report.peak_rss_mb = peak.rssMb;
  report.peak_tensor_mb = peak.tensorMb;
  fs.mkdirSync(path.dirname(args.out!), { recursive: true });
  fs.writeFileSync(args.out!, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
