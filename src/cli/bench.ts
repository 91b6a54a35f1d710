/**
 * `trirl bench injecagent|bfcl|agent-safetybench --model DIR [--adapter DIR] [--max-cases N] [--data DIR]`:
 * a public benchmark, offline, scored like its official protocol (src/benchmarks/). The JSON report
 * goes to stdout, a progress bar and the table to stderr; `--cases FILE` also writes one JSON line per
 * case. The data is read where it lies (`--data`, default ../shared/benchmarks from the working folder).
 */
import fs from "node:fs";
import { Argument, type Command } from "commander";
import { disposeLora } from "../lora/lora.ts";
import { loadAdapter } from "../lora/peft.ts";
import type { BackendChoice } from "../model/backend.ts";
import { readModelSystemPrompt } from "../model/hf-config.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { disposeModel, loadModel } from "../model/weights.ts";
import type { Policy } from "../rollout/rollout.ts";
import { asbTable, runAsb } from "../benchmarks/asb.ts";
import { bfclTable, runBfcl } from "../benchmarks/bfcl.ts";
import { BENCHMARK_NAMES, DEFAULT_DATA_DIR, benchmarkDir, type BenchmarkName } from "../benchmarks/data-files.ts";
import { injecAgentTable, runInjecAgent } from "../benchmarks/injecagent.ts";
import type { BenchOptions, ReportBase } from "../benchmarks/report.ts";
import { backendOption, resolveModelDir, startBackend, type ModelArgs } from "./model.ts";
import { parseIntOption, printJson } from "./output.ts";
import { createProgress } from "./progress.ts";

const DEFAULT_MAX_NEW_TOKENS: Record<BenchmarkName, number> = { injecagent: 256, bfcl: 256, "agent-safetybench": 512 };

/** Runs one benchmark; returns its report and the table for stderr. */
async function runBench(name: BenchmarkName, policy: Policy, opts: BenchOptions): Promise<{ report: ReportBase; table: string }> {
  if (name === "injecagent") {
    const report = await runInjecAgent(policy, opts);
    return { report, table: injecAgentTable(report) };
  }
  if (name === "bfcl") {
    const report = await runBfcl(policy, opts);
    return { report, table: bfclTable(report) };
  }
  const report = await runAsb(policy, opts);
  return { report, table: asbTable(report) };
}

type BenchCliOptions = ModelArgs & {
  maxCases?: number; data?: string; maxNewTokens?: number; batchSize: number;
  systemPrompt?: string; cases?: string; backend: BackendChoice;
};

async function benchCommand(name: BenchmarkName, opts: BenchCliOptions) {
  const dir = benchmarkDir(name, opts.data, process.cwd()); // fail on missing data before loading a model
  const modelDir = resolveModelDir(opts);
  const backend = await startBackend(opts.backend);
  const model = loadModel(modelDir);
  const tokenizer = await loadTokenizer(modelDir);
  const lora = opts.adapter ? loadAdapter(opts.adapter, model) : undefined;
  const systemPrompt = opts.systemPrompt ?? readModelSystemPrompt(modelDir);
  const progress = createProgress(process.stderr);
  if (opts.cases) fs.writeFileSync(opts.cases, "");
  progress.line(`trirl bench ${name}: ${modelDir}${opts.adapter ? ` + ${opts.adapter}` : ""} (${backend}), data ${dir}`);
  try {
    const { report, table } = await runBench(name, { model, tokenizer, adapters: lora?.adapters }, {
      dir, maxCases: opts.maxCases, maxNewTokens: opts.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS[name], batchSize: opts.batchSize, systemPrompt,
      onProgress: (phase, done, total) => progress.event({ kind: "progress", phase, done, total }),
      onCase: opts.cases ? (r) => fs.appendFileSync(opts.cases!, `${JSON.stringify(r)}\n`) : undefined,
    });
    progress.line(table);
    progress.line(`${report.cases} cases (${report.invalid} invalid) in ${report.seconds.toFixed(1)} s: ${report.cases_per_second.toFixed(2)} cases/s`);
    printJson({ model: modelDir, adapter: opts.adapter ?? null, backend, system_prompt: systemPrompt ?? "(the benchmark's own)", ...report });
  } finally {
    if (lora) disposeLora(lora);
    disposeModel(model);
  }
}

export function registerBenchCommands(program: Command): void {
  program
    .command("bench")
    .description("run a public benchmark offline (InjecAgent, BFCL, Agent-SafetyBench) and print its report, scored like the official protocol")
    .addArgument(new Argument("<name>", "the benchmark").choices(BENCHMARK_NAMES))
    .option("--model <dir>", 'Hugging Face checkpoint folder, or "tiny" (default with --adapter: the base the adapter was trained on)')
    .option("--adapter <dir>", "PEFT LoRA adapter folder")
    .option("--force", "apply --adapter even though it was trained on another base model", false)
    .option("--max-cases <n>", "cases at most, spread evenly over the benchmark's files / categories (default: all)", parseIntOption("--max-cases", 1))
    .option("--data <dir>", `benchmark data folder (default: ${DEFAULT_DATA_DIR} from the working folder)`)
    .option("--max-new-tokens <n>", "new tokens per assistant turn (agent-safetybench: per episode); default 256, agent-safetybench 512", parseIntOption("--max-new-tokens", 1))
    .option("--batch-size <n>", "conversations per batched generation", parseIntOption("--batch-size", 1), 16)
    .option("--system-prompt <text>", "system message (default: the model folder's system_prompt.txt, else the benchmark's own)")
    .option("--cases <file>", "also write one JSON line per case (outputs, labels, reasons)")
    .addOption(backendOption())
    .action(benchCommand);
}
