/**
 * Throughput of the supervised warm start on the embedded tiny model (not a test): seconds per
 * step and trained tokens per second, for each micro-batch size, full fine-tune or LoRA.
 *   npx tsx bench/warm-start.bench.ts [--micro-batch 1,2,4,8] [--train all|lora] [--steps 6]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseRunConfig } from "../src/config.ts";
import { initBackend } from "../src/model/backend.ts";
import { ensureTinyModel } from "../src/model/tiny-model.ts";
import { loadTokenizer } from "../src/model/tokenizer.ts";
import { disposeModel, loadModel } from "../src/model/weights.ts";
import { splitScenarios } from "../src/rl/base-model.ts";
import { warmStart, warmTarget } from "../src/rl/warm-start.ts";

const { values: args } = parseArgs({
  options: {
    "micro-batch": { type: "string", default: "1,2,4,8" },
    train: { type: "string", default: "all" },
    steps: { type: "string", default: "6" },
    out: { type: "string" },
  },
});

async function main() {
  const backend = await initBackend("wasm");
  const dir = ensureTinyModel();
  const model = loadModel(dir);
  const tokenizer = await loadTokenizer(dir);
  const cfg = parseRunConfig({}, "bench");
  const { train } = splitScenarios(cfg);
  const rows = [];
  for (const microBatch of args["micro-batch"].split(",").map(Number)) {
    const opts = {
      ...cfg.warmStart, train: args.train as "all" | "lora", steps: Number(args.steps), seed: 0, pYes: 0.5, maxTurns: cfg.rollout.maxTurns,
      systemPrompt: cfg.rollout.systemPrompt, microBatch, chunkRows: cfg.loss.chunkRows,
    };
    const target = warmTarget(model, opts);
    const times: number[] = [];
    let last = performance.now();
    await warmStart(target, tokenizer, train, opts, () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    });
    target.dispose();
    const steady = times.slice(1); // the first step compiles / allocates
    const perStep = steady.reduce((a, b) => a + b, 0) / steady.length;
    rows.push({ microBatch, secondsPerStep: perStep, episodesPerSecond: opts.batchSize / perStep });
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
  disposeModel(model);
  const report = { backend, model: "tiny-qwen3", train: args.train, batchSize: cfg.warmStart.batchSize, rows };
  const out = args.out ?? path.join(import.meta.dirname, "results", `warm-start-${args.train}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
