/**
 * One GRPO step, measured (not a test): time per phase (generate / score / update), tokens,
 * peak memory, and — with --profile — where the update's kernel time goes.
 *   npx tsx bench/grpo-step.bench.ts [--model tiny|0.5b] [--backend wasm|cpu] [--group 4] [--new-tokens 256]
 *     [--checkpoint-layers true|false] (default: true for 0.5b)
 * The 0.5b model is Qwen2.5-0.5B-shaped with random weights and the real Qwen3 tokenizer.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { parseRunConfig } from "../src/config.ts";
import { createLora, disposeLora } from "../src/lora/lora.ts";
import { initBackend, type BackendName } from "../src/model/backend.ts";
import { ensureTinyModel } from "../src/model/tiny-model.ts";
import { bundledQwen3TokenizerDir, loadTokenizer } from "../src/model/tokenizer.ts";
import { disposeModel, loadModel } from "../src/model/weights.ts";
import { createAdam, disposeAdam } from "../src/rl/adam.ts";
import { splitScenarios } from "../src/rl/base-model.ts";
import { trainStep } from "../src/rl/step.ts";
import { QWEN25_05B_CONFIG, randomModel } from "./random-model.ts";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "tiny" },
    backend: { type: "string", default: "wasm" },
    group: { type: "string", default: "4" },
    "new-tokens": { type: "string", default: "256" },
    "micro-batch": { type: "string", default: "1" },
    out: { type: "string" },
    layers: { type: "string", default: "24" },
    "checkpoint-layers": { type: "string" },
  },
});

let peakRssMb = 0;
const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20)), 200);

async function main() {
  const backend = await initBackend(args.backend as BackendName);
  const isTiny = args.model === "tiny";
  const t0 = performance.now();
  const model = isTiny ? loadModel(ensureTinyModel()) : randomModel({ ...QWEN25_05B_CONFIG, num_hidden_layers: Number(args.layers) }, 0);
  const tokenizer = await loadTokenizer(isTiny ? model.dir : bundledQwen3TokenizerDir());
  const loadSeconds = (performance.now() - t0) / 1000;
  const cfg = parseRunConfig({
    model: model.dir, backend, steps: 1, scenariosPerStep: 1, groupSize: Number(args.group), warmStart: { steps: 0 },
    rollout: { maxNewTokens: Number(args["new-tokens"]), maxTurns: 4 },
    loss: { microBatch: Number(args["micro-batch"]), updatesPerStep: 1, chunkRows: 64, checkpointLayers: (args["checkpoint-layers"] ?? String(!isTiny)) === "true" },
  }, "bench");
  const lora = createLora(model, cfg.lora, 0);
  const adam = createAdam(lora.variables);
  const scenario = splitScenarios(cfg).train.find((s) => s.user === "sensitive")!;
  const result = await trainStep({ policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg }, [scenario], 0);
  const report = {
    model: isTiny ? "tiny-qwen3" : `qwen2.5-0.5b-shaped (random), ${args.layers} of 24 layers`,
    backend,
    group: cfg.groupSize,
    maxNewTokens: cfg.rollout.maxNewTokens,
    layout: model.weights.lmHead.layout,
    checkpointLayers: cfg.loss.checkpointLayers,
    load_seconds: loadSeconds,
    seconds: result.seconds,
    tokens_sampled: result.episodes.reduce((a, e) => a + e.sampled.reduce((s, v) => s + v, 0), 0),
    tokens_total: result.episodes.reduce((a, e) => a + e.tokens.length, 0),
    turns: result.episodes.map((e) => e.record.turns.length),
    peak_rss_mb: peakRssMb,
    tensor_mb_after: tf.memory().numBytes / 2 ** 20,
  };
  console.log(JSON.stringify(report, null, 2));
  if (args.out) {
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  disposeAdam(adam);
  disposeLora(lora);
  disposeModel(model);
  clearInterval(sampler);
}

await main();
