/**
 * GPU speed, measured (not a test): on a Qwen-shaped model with random weights, prefill and decode
 * tokens/s at several batch sizes, one GRPO step (generate / update seconds) and the peak GPU
 * memory tfjs reports; then, in the same run, the same workload in PyTorch eager
 * (bench/gpu_peer.py: HF `generate`, a PEFT LoRA forward + backward) when `python3 -c "import
 * torch, transformers, peft"` works, so the two can be compared. Results: JSON on stdout (and
 * --out FILE).
 *   npx tsx bench/gpu.bench.ts                      # Qwen2.5-0.5B shape, all 24 layers, webgpu
 *   npx tsx bench/gpu.bench.ts --swiftshader --shape tiny --layers 1 --batches 1,2 --prompt 16 --decode 4 --group 2 --new-tokens 4
 *                                                   # the check on a software GPU (README: GPU)
 * --swiftshader: VK_ICD_FILENAMES = chromium's SwiftShader ICD (a software GPU).
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { parseRunConfig } from "../src/config.ts";
import { createLora, disposeLora } from "../src/lora/lora.ts";
import { chooseBackend, initBackend, type BackendChoice } from "../src/model/backend.ts";
import { generate } from "../src/model/generate.ts";
import { disposeBatch, tokenBatch } from "../src/model/inputs.ts";
import { forward, lmHead } from "../src/model/qwen.ts";
import { ensureTinyModel } from "../src/model/tiny-model.ts";
import { bundledQwen3TokenizerDir, loadTokenizer } from "../src/model/tokenizer.ts";
import { disposeModel, parameterCount, type QwenModel } from "../src/model/weights.ts";
import { createAdam, disposeAdam } from "../src/rl/adam.ts";
import { splitScenarios } from "../src/rl/base-model.ts";
import { trainStep } from "../src/rl/step.ts";
import { seededRng } from "../src/util/rng.ts";
import { QWEN25_05B_CONFIG, randomModel } from "./random-model.ts";

const { values: args } = parseArgs({
  options: {
    shape: { type: "string", default: "0.5b" },
    layers: { type: "string" },
    backend: { type: "string", default: "webgpu" },
    batches: { type: "string", default: "1,16,32" },
    prompt: { type: "string", default: "128" },
    decode: { type: "string", default: "32" },
    group: { type: "string", default: "8" },
    "new-tokens": { type: "string", default: "256" },
    peer: { type: "string", default: "true" },
    swiftshader: { type: "boolean", default: false },
    out: { type: "string" },
  },
});

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** config.json fields of the benchmarked shape, and the tokenizer whose ids it covers. */
function shape(): { hf: Record<string, unknown>; tokenizerDir: string } {
  const layers = args.layers ? { num_hidden_layers: Number(args.layers) } : {};
  if (args.shape === "0.5b") return { hf: { ...QWEN25_05B_CONFIG, ...layers }, tokenizerDir: bundledQwen3TokenizerDir() };
  if (args.shape !== "tiny") throw new Error(`--shape ${args.shape}: expected 0.5b or tiny`);
  const dir = ensureTinyModel();
  return { hf: { ...JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")), ...layers }, tokenizerDir: dir };
}

/** Peak of tfjs' GPU buffer bytes, sampled every 50 ms and at each call of `sample`. */
function gpuMemoryWatch() {
  let peak = 0;
  const sample = () => {
    const m = tf.memory() as { numBytesAllocatedInGPU?: number; numBytes: number };
    peak = Math.max(peak, m.numBytesAllocatedInGPU ?? m.numBytes);
  };
  const timer = setInterval(sample, 50);
  return { sample, stop: () => (clearInterval(timer), sample(), peak / 2 ** 20) };
}

/** Prefill tokens/s: one forward over [B, P] with the head on the last position, read back. */
async function prefill(model: QwenModel, b: number, p: number): Promise<number> {
  const ids = Array.from({ length: b }, (_, r) => Array.from({ length: p }, (_, i) => ((i + 1) * 7919 + r * 104729) % 8000 + 10));
  const once = async () => {
    const batch = tokenBatch(ids, null);
    const t0 = performance.now();
    const { hidden } = forward(model, batch);
    const logits = lmHead(model, hidden.slice([0, p - 1, 0], [b, 1, -1]));
    await logits.data();
    tf.dispose([hidden, logits]);
    disposeBatch(batch);
    return seconds(t0);
  };
  await once(); // shader compilation
  return (b * p) / (await once());
}

/** Decode tokens/s: generate D tokens vs 1 token from the same prompts; the difference is D − 1 decode steps. */
async function decode(model: QwenModel, b: number, p: number, d: number): Promise<number> {
  const prompts = Array.from({ length: b }, (_, r) => Array.from({ length: p }, (_, i) => ((i + 3) * 31 + r * 17) % 8000 + 10));
  const run = async (n: number) => {
    const t0 = performance.now();
    await generate(model, prompts, { temperature: 1, topK: 0, topP: 1, maxNewTokens: n, stopIds: [], rngs: prompts.map((_, r) => seededRng(r)) });
    return seconds(t0);
  };
  await run(2); // shader compilation, decode shapes included
  const one = await run(1);
  return (b * (d - 1)) / Math.max((await run(d)) - one, 1e-9);
}

/** One GRPO step (a sensitive scenario, G episodes, up to `newTokens` each), as bench/grpo-step.bench.ts runs it. */
async function grpoStep(model: QwenModel, tokenizerDir: string, group: number, newTokens: number) {
  const tokenizer = await loadTokenizer(tokenizerDir);
  const cfg = parseRunConfig({
    model: model.dir, steps: 1, scenariosPerStep: 1, groupSize: group, warmStart: { steps: 0 },
    rollout: { maxNewTokens: newTokens, maxTurns: 4 }, loss: { microBatch: 1, updatesPerStep: 1, chunkRows: 64 },
  }, "bench");
  const lora = createLora(model, cfg.lora, 0);
  const adam = createAdam(lora.variables);
  const scenario = splitScenarios(cfg).train.find((s) => s.user === "sensitive")!;
  const result = await trainStep({ policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg }, [scenario], 0);
  disposeAdam(adam);
  disposeLora(lora);
  const sampled = result.episodes.reduce((a, e) => a + e.sampled.reduce((s, v) => s + v, 0), 0);
  return { seconds: result.seconds, tokens_total: result.episodes.reduce((a, e) => a + e.tokens.length, 0), tokens_sampled: sampled, lora_rank: cfg.lora.rank };
}

/** The PyTorch eager peer on the same shape and workload, or why it did not run. */
function torchPeer(hf: object, opts: { batches: number[]; prompt: number; decode: number; group: number; newTokens: number; promptTokens: number; loraRank: number }) {
  if (args.peer !== "true") return { skipped: "--peer false" };
  const probe = spawnSync("python3", ["-c", "import torch, transformers, peft"], { encoding: "utf8" });
  if (probe.status !== 0) return { skipped: `python3 with torch, transformers and peft not available (${(probe.stderr || probe.error?.message || "").trim().split("\n").at(-1)})` };
  const script = path.join(import.meta.dirname, "gpu_peer.py");
  const out = execFileSync("python3", [script, JSON.stringify({ config: hf, ...opts })], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

async function main() {
  // the caller's job (library code reads no environment): before Dawn first looks for adapters
  if (args.swiftshader) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const { name: backend, reason } = await chooseBackend(args.backend as BackendChoice);
  await initBackend(backend);
  const { hf, tokenizerDir } = shape();
  const memory = gpuMemoryWatch();
  const t0 = performance.now();
  const model = randomModel(hf, 0);
  const [p, d, batches] = [Number(args.prompt), Number(args.decode), args.batches!.split(",").map(Number)];
  const report: Record<string, unknown> = {
    shape: args.shape, layers: model.config.numLayers, parameters: parameterCount(model.config), backend, adapter: reason, load_seconds: seconds(t0),
  };
  report.prefill_tokens_per_s = {} as Record<number, number>;
  report.decode_tokens_per_s = {} as Record<number, number>;
  for (const b of batches) {
    (report.prefill_tokens_per_s as Record<number, number>)[b] = await prefill(model, b, p);
    (report.decode_tokens_per_s as Record<number, number>)[b] = await decode(model, b, p, d);
    memory.sample();
    console.error(`batch ${b}: prefill ${(report.prefill_tokens_per_s as Record<number, number>)[b].toFixed(1)} tok/s, decode ${(report.decode_tokens_per_s as Record<number, number>)[b].toFixed(1)} tok/s`);
  }
  const step = await grpoStep(model, tokenizerDir, Number(args.group), Number(args["new-tokens"]));
  report.grpo_step = { group: Number(args.group), max_new_tokens: Number(args["new-tokens"]), ...step };
  report.peak_gpu_mb = memory.stop();
  report.live_tensors_after = tf.memory().numTensors;
  disposeModel(model);
    // the peer's prompt: our episodes' non-sampled tokens (prompt, tool results) per episode
  const promptTokens = (step.tokens_total - step.tokens_sampled) / Number(args.group);
  report.pytorch_eager = torchPeer(hf, { batches, prompt: p, decode: d, group: Number(args.group), newTokens: Number(args["new-tokens"]), promptTokens, loraRank: step.lora_rank });
  console.log(JSON.stringify(report, null, 2));
  if (args.out) {
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  }
}

await main();
