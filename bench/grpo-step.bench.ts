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
import { disposeModel, loadModel, parameterCount, type QwenModel } from "../src/model/weights.ts";
import { createAdam, disposeAdam } from "../src/rl/adam.ts";
import { splitScenarios } from "../src/rl/base-model.ts";
import { trainStep, type StepResult } from "../src/rl/step.ts";
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

/** Peak resident memory of this process (Linux VmHWM): a timer cannot sample during long wasm calls. */
function peakRssMb(): number | null {
  const status = fs.existsSync("/proc/self/status") ? fs.readFileSync("/proc/self/status", "utf8") : "";
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : null;
}

/** Size of the wasm heap: it never shrinks, so this is its high-water mark. */
function wasmHeapMb(): number | null {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.length / 2 ** 20 : null;
}

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
  const tokens = { total: result.episodes.reduce((a, e) => a + e.tokens.length, 0), sampled: result.episodes.reduce((a, e) => a + e.sampled.reduce((s, v) => s + v, 0), 0) };
  const report = {
    model: isTiny ? "tiny-qwen3" : `qwen2.5-0.5b-shaped (random), ${args.layers} of 24 layers`,
    backend,
    group: cfg.groupSize,
    maxNewTokens: cfg.rollout.maxNewTokens,
    layout: model.weights.lmHead.layout,
    checkpointLayers: cfg.loss.checkpointLayers,
    load_seconds: loadSeconds,
    seconds: result.seconds,
    tokens_sampled: tokens.sampled,
    tokens_total: tokens.total,
    turns: result.episodes.map((e) => e.record.turns.length),
    peak_rss_mb: peakRssMb(),
    wasm_heap_peak_mb: wasmHeapMb(),
    tensor_mb_after: tf.memory().numBytes / 2 ** 20,
    // estimated work: 2 FLOPs per weight per token; attention products not counted
    gflop_estimate: flopEstimate(model, tokens, result.seconds, { reference: cfg.loss.klCoef > 0, recompute: cfg.loss.checkpointLayers }),
  };
  console.log(JSON.stringify(report, null, 2));
  if (args.out) {
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  disposeAdam(adam);
  disposeLora(lora);
  disposeModel(model);
}

/**
 * GFLOPs of the step's matrix products: the decoder body (2 · non-embedding weights per token),
 * the LM head (2 · C · V per position it is applied to). Generation runs the body over every
 * token and the head at each sampled one; the update runs the body once for the reference pass,
 * once forward, once recomputed (checkpointing) and ≈ once backward (input gradients), and the
 * head (chunked, recomputed) ≈ 4 times over the sampled positions.
 */
function flopEstimate(model: QwenModel, { total: tokens, sampled }: { total: number; sampled: number }, seconds: StepResult["seconds"], { reference, recompute }: { reference: boolean; recompute: boolean }) {
  const { hiddenSize: c, vocabSize: v } = model.config;
  const body = 2 * (parameterCount(model.config) - c * v * (model.config.tieWordEmbeddings ? 1 : 2));
  const head = 2 * c * v;
  const bodyPasses = (reference ? 1 : 0) + 1 + (recompute ? 1 : 0) + 1;
  const headPasses = (reference ? 1 : 0) + 3;
  const gen = (tokens * body + sampled * head) / 1e9;
  const update = (bodyPasses * tokens * body + headPasses * sampled * head) / 1e9;
  return {
    generate: gen, update, update_body: (bodyPasses * tokens * body) / 1e9, update_head: (headPasses * sampled * head) / 1e9,
    achieved_gflops: { generate: gen / seconds.generate, update: update / seconds.update },
  };
}

await main();
