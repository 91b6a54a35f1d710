/**
 * A small vocabulary cut from the real Qwen3 tokenizer, for the embedded tiny default model:
 * with 151,669 ids the LM head would dominate a tiny model's cost on CPU.
 * Qwen's byte-level BPE numbers its tokens id = 256 + merge rank (checked here), so the 256 byte
 * tokens and the first M merges form a closed vocabulary. Every text still encodes (each byte
 * has a token), and text whose full tokenization uses only ids < 256 + M encodes to the same ids.
 * Added tokens are renumbered to follow; pre-tokenizer, decoder, chat template and special-token
 * flags are copied unchanged. Not a retrained tokenizer: rarer words just split into more pieces.
 */
import fs from "node:fs";
import path from "node:path";
import { fail } from "../util/assert.ts";
import { bundledQwen3TokenizerDir } from "./tokenizer.ts";

export const TINY_VOCAB_SIZE = 8192;

/** The ids the model generator needs for `config.json`. */
export type TinyTokenizerIds = {
  vocabSize: number;
  /** `eos_token` of tokenizer_config.json (`<|im_end|>`). */
  eosTokenId: number;
  /** `pad_token` of tokenizer_config.json (`<|endoftext|>`). */
  padTokenId: number;
  /** `<|endoftext|>`: Qwen's config.json names it bos_token_id although no BOS is ever added. */
  bosTokenId: number;
  /** Every added token (special or not) → its new id. */
  addedTokenIds: Record<string, number>;
};

type AddedToken = { id: number; content: string } & Record<string, unknown>;
type TokenizerJson = {
  added_tokens: AddedToken[];
  model: { vocab: Record<string, number>; merges: unknown[] } & Record<string, unknown>;
} & Record<string, unknown>;
type TokenizerConfig = {
  eos_token: string;
  pad_token: string;
  added_tokens_decoder: Record<string, unknown>;
} & Record<string, unknown>;

/**
 * Writes `tokenizer.json` and `tokenizer_config.json` of a `vocabSize`-id Qwen3 tokenizer into
 * `dir` (created if missing). Deterministic: the same bytes on every call.
 * @throws Error when `vocabSize` is out of range, or the source files lack the id = 256 + rank layout.
 */
export function writeTinyQwenTokenizer(dir: string, opts: { vocabSize?: number } = {}): TinyTokenizerIds {
  const vocabSize = opts.vocabSize ?? TINY_VOCAB_SIZE;
  const srcDir = bundledQwen3TokenizerDir();
  const src = JSON.parse(fs.readFileSync(path.join(srcDir, "tokenizer.json"), "utf8")) as TokenizerJson;
  const srcConfig = JSON.parse(fs.readFileSync(path.join(srcDir, "tokenizer_config.json"), "utf8")) as TokenizerConfig;
  const where = path.join(srcDir, "tokenizer.json");

  const added = [...src.added_tokens].sort((a, b) => a.id - b.id);
  const maxSize = 256 + src.model.merges.length + added.length;
  if (!Number.isInteger(vocabSize) || vocabSize <= 256 + added.length || vocabSize > maxSize)
    fail(`tiny tokenizer: vocabSize ${vocabSize} must be an integer in (${256 + added.length}, ${maxSize}]`);
  const numMerges = vocabSize - 256 - added.length;

  const tokenOf = invertVocab(src.model.vocab, 256 + numMerges, where);
  const merges = src.model.merges.slice(0, numMerges);
  for (const [rank, merge] of merges.entries()) {
    if (!Array.isArray(merge) || merge.length !== 2) fail(`${where}: merges[${rank}] is not a [left, right] pair`);
    const merged = `${merge[0]}${merge[1]}`;
    if (merged !== tokenOf[256 + rank])
      fail(`${where}: merges[${rank}] makes "${merged}" but id ${256 + rank} is "${tokenOf[256 + rank]}"; ids must be 256 + merge rank`);
  }
  const vocab: Record<string, number> = {};
  tokenOf.forEach((token, id) => (vocab[token] = id));

  const newId = new Map(added.map((t, k) => [t.id, 256 + numMerges + k]));
  const addedTokens = added.map((t) => ({ ...t, id: newId.get(t.id)! }));
  const decoder: Record<string, unknown> = {};
  for (const [oldId, entry] of Object.entries(srcConfig.added_tokens_decoder))
    decoder[String(newId.get(Number(oldId)) ?? fail(`tokenizer_config.json: added token ${oldId} not in ${where}`))] = entry;

  fs.mkdirSync(dir, { recursive: true });
  const tokenizer = { ...src, added_tokens: addedTokens, model: { ...src.model, vocab, merges } };
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  const config = { ...srcConfig, added_tokens_decoder: decoder };
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), `${JSON.stringify(config, null, 2)}\n`);

  const addedTokenIds = Object.fromEntries(addedTokens.map((t) => [t.content, t.id]));
  const idOf = (content: string) => addedTokenIds[content] ?? fail(`${where}: no added token ${content}`);
  return {
    vocabSize,
    eosTokenId: idOf(srcConfig.eos_token),
    padTokenId: idOf(srcConfig.pad_token),
    bosTokenId: idOf("<|endoftext|>"),
    addedTokenIds,
  };
}

/** id → token for ids < `size`; checks the ids are exactly 0 … size−1 and ids < 256 are single bytes. */
function invertVocab(vocab: Record<string, number>, size: number, where: string): string[] {
  const tokenOf: string[] = new Array(size);
  for (const [token, id] of Object.entries(vocab)) if (id < size) tokenOf[id] = token;
  for (let id = 0; id < size; id++) {
    if (tokenOf[id] === undefined) fail(`${where}: no token has id ${id}`);
    if (id < 256 && [...tokenOf[id]].length !== 1) fail(`${where}: id ${id} "${tokenOf[id]}" is not a byte token`);
  }
  return tokenOf;
}
