/**
 * Model commands (SPEC §6): `trirl logits`, `trirl generate` work on a model folder with no
 * tokenizer files (ids in, ids/logits out) and print full-precision float32 values as JSON;
 * `trirl chat` renders the folder's chat template, samples and prints the reply text.
 */
import fs from "node:fs";
import { Command, Option } from "commander";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { BACKENDS, chooseBackend, initBackend, type BackendChoice, type BackendName } from "../model/backend.ts";
import { generate } from "../model/generate.ts";
import { tokenBatch, disposeBatch } from "../model/inputs.ts";
import { forward, lmHead } from "../model/qwen.ts";
import { adapterBaseDir, checkAdapterBase } from "../lora/adapter-base.ts";
import { checkCheckpointFolder, disposeModel, loadModel } from "../model/weights.ts";
import { checkModelFolder } from "../rl/base-model.ts";
import { encodeChatPrompt, loadTokenizer, type ChatMessage } from "../model/tokenizer.ts";
import { DEFAULT_TINY_MODEL_DIR, ensureTinyModel } from "../model/tiny-model.ts";
import { seededRng } from "../util/rng.ts";
import { parseFloatOption, parseIntOption, printJson } from "./output.ts";

export const backendOption = () =>
  new Option("--backend <name>", "tfjs backend; auto = webgpu on a real GPU, else wasm").choices(BACKENDS).default("auto" satisfies BackendChoice);

/** Resolves and starts the backend; says on stderr which one when it was chosen (auto) or is a GPU. */
export async function startBackend(choice: BackendChoice): Promise<BackendName> {
  const { name, reason } = await chooseBackend(choice);
  if (choice === "auto" || name === "webgpu") process.stderr.write(`trirl: backend ${name} (${reason})\n`);
  return initBackend(name);
}

/** --model / --adapter / --force as eval, bench and merge take them. */
export type ModelArgs = { model?: string; adapter?: string; force: boolean };

/**
 * The model folder a command runs: --model ("tiny" = the embedded one), else the adapter's recorded
 * base. Checked before anything loads: the folder (and its tokenizer, unless `hasNoTokenizer`), and
 * the adapter against it unless --force.
 */
export function resolveModelDir(args: ModelArgs, { hasNoTokenizer = false } = {}): string {
  if (args.model === undefined && args.adapter === undefined) throw new Error("--model is required (it may be omitted only with --adapter, whose base model is then used)");
  const dir = args.model === undefined ? adapterBaseDir(args.adapter!) : args.model === "tiny" ? ensureTinyModel() : args.model;
  if (hasNoTokenizer) checkCheckpointFolder(dir);
  else checkModelFolder(dir);
  if (args.adapter !== undefined && !args.force) checkAdapterBase(args.adapter, dir);
  return dir;
}

const LogitsInput = z.strictObject({
  input_ids: z.array(z.array(z.number().int().nonnegative()).min(1)).min(1),
  attention_mask: z.array(z.array(z.union([z.literal(0), z.literal(1)]))).nullable().default(null),
});

function readLogitsInput(file: string, vocabSize: number): z.infer<typeof LogitsInput> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`--input ${file}: cannot read JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = LogitsInput.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--input ${file}: field "${issue.path.join(".")}": ${issue.message}`);
  }
  const { input_ids: ids, attention_mask: mask } = parsed.data;
  const t = ids[0].length;
  ids.forEach((row, b) => {
    if (row.length !== t) throw new Error(`--input ${file}: input_ids rows differ in length (row ${b} has ${row.length}, row 0 has ${t})`);
    const bad = row.find((id) => id >= vocabSize);
    if (bad !== undefined) throw new Error(`--input ${file}: input_ids[${b}] contains ${bad}, outside the vocabulary (size ${vocabSize})`);
    if (mask && mask[b]?.length !== t) throw new Error(`--input ${file}: attention_mask[${b}] does not match input_ids[${b}] in length`);
  });
  if (mask && mask.length !== ids.length) throw new Error(`--input ${file}: attention_mask has ${mask.length} rows, input_ids ${ids.length}`);
  return parsed.data;
}

async function logitsCommand(opts: { model: string; input: string; backend: BackendChoice }) {
  await startBackend(opts.backend);
  const model = loadModel(opts.model);
  const input = readLogitsInput(opts.input, model.config.vocabSize);
  const batch = tokenBatch(input.input_ids, input.attention_mask);
  const { hidden } = forward(model, batch);
  const logits = lmHead(model, hidden);
  printJson({ logits: await logits.array() });
  tf.dispose([hidden, logits]);
  disposeBatch(batch);
  disposeModel(model);
}

type GenerateCliOptions = {
  model: string; promptIds: number[]; maxNewTokens: number; temperature: number;
  topK: number; topP: number; seed: number; backend: BackendChoice;
};

async function generateCommand(opts: GenerateCliOptions) {
  await startBackend(opts.backend);
  const model = loadModel(opts.model);
  const v = model.config.vocabSize;
  const bad = opts.promptIds.find((id) => id >= v);
  if (bad !== undefined) throw new Error(`--prompt-ids: ${bad} is outside the vocabulary (size ${v})`);
  const [out] = await generate(model, [opts.promptIds], {
    ...opts,
    stopIds: model.config.eosTokenIds.filter((id) => id < v),
    rngs: [seededRng(opts.seed)],
  });
  printJson({ output_ids: [...opts.promptIds, ...out.tokens] });
  disposeModel(model);
}

type ChatCliOptions = Omit<GenerateCliOptions, "promptIds" | "model"> & { model?: string; system?: string; think: boolean };

async function chatCommand(prompt: string, opts: ChatCliOptions) {
  await startBackend(opts.backend);
  const dir = opts.model ?? ensureTinyModel();
  const tok = await loadTokenizer(dir);
  const model = loadModel(dir);
  const messages: ChatMessage[] = [...(opts.system ? [{ role: "system" as const, content: opts.system }] : []), { role: "user", content: prompt }];
  const promptIds = encodeChatPrompt(tok, messages, { enableThinking: opts.think });
  const stopIds = [...new Set([...tok.eosTokenIds, ...model.config.eosTokenIds])];
  const [out] = await generate(model, [promptIds], { ...opts, stopIds, rngs: [seededRng(opts.seed)], padId: tok.padTokenId });
  process.stdout.write(`${tok.decode(out.tokens, { skipSpecialTokens: true })}\n`);
  disposeModel(model);
}

function parseIdList(raw: string): number[] {
  const ids = raw.split(",").map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) throw new Error(`--prompt-ids: expected comma-separated token ids, got "${raw}"`);
  return ids.map(Number);
}

export function registerModelCommands(program: Command): void {
  program
    .command("logits")
    .description('print {"logits": [B][T][V]} for the input ids (float32, full precision)')
    .requiredOption("--model <dir>", "Hugging Face checkpoint folder")
    .requiredOption("--input <file>", 'JSON {"input_ids": [[…]], "attention_mask": [[…]] or null}')
    .addOption(backendOption())
    .action(logitsCommand);
  program
    .command("generate")
    .description('print {"output_ids": [...]}: prompt + new tokens (temperature 0 = greedy)')
    .requiredOption("--model <dir>", "Hugging Face checkpoint folder")
    .requiredOption("--prompt-ids <ids>", "comma-separated prompt token ids", parseIdList)
    .requiredOption("--max-new-tokens <n>", "tokens to generate at most", parseIntOption("--max-new-tokens", 1))
    .option("--temperature <t>", "sampling temperature; 0 = greedy", parseFloatOption("--temperature", 0), 0)
    .option("--top-k <k>", "keep the k most likely tokens; 0 = off", parseIntOption("--top-k", 0), 0)
    .option("--top-p <p>", "nucleus sampling mass; 1 = off", parseFloatOption("--top-p", 0), 1)
    .option("--seed <n>", "sampling seed", parseIntOption("--seed", 0), 0)
    .addOption(backendOption())
    .action(generateCommand);
  program
    .command("chat")
    .description("render the model's chat template around PROMPT, sample a reply and print its text")
    .argument("<prompt>", "the user message")
    .option("--model <dir>", `Hugging Face checkpoint folder with tokenizer files (default: the embedded tiny model, ${DEFAULT_TINY_MODEL_DIR})`)
    .option("--system <text>", "a system message")
    .option("--max-new-tokens <n>", "tokens to generate at most", parseIntOption("--max-new-tokens", 1), 256)
    .option("--temperature <t>", "sampling temperature; 0 = greedy", parseFloatOption("--temperature", 0), 0.7)
    .option("--top-k <k>", "keep the k most likely tokens; 0 = off", parseIntOption("--top-k", 0), 20)
    .option("--top-p <p>", "nucleus sampling mass; 1 = off", parseFloatOption("--top-p", 0), 0.8)
    .option("--seed <n>", "sampling seed", parseIntOption("--seed", 0), 0)
    .option("--no-think", "Qwen3: disable thinking (enable_thinking=false)")
    .addOption(backendOption())
    .action(chatCommand);
}
