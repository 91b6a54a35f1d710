// The tiny Qwen3 tokenizer: checked against the full tokenizer.json it is cut from, read
// directly, and against the full tokenizer's own encodings.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundledQwen3TokenizerDir, loadTokenizer, type Tokenizer } from "../../src/model/tokenizer.ts";
import { writeTinyQwenTokenizer, type TinyTokenizerIds } from "../../src/model/tiny-tokenizer.ts";

type RawTokenizer = {
  model: { vocab: Record<string, number>; merges: [string, string][] } & Record<string, unknown>;
  added_tokens: { id: number; content: string }[];
} & Record<string, unknown>;

const SIZE = 8192;
const NUM_ADDED = 26; // Qwen3's added tokens, <|endoftext|> … </think>
const NUM_MERGES = SIZE - 256 - NUM_ADDED;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "trirl-tiny-"));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

let dir: string;
let ids: TinyTokenizerIds;
let tiny: Tokenizer;
let full: Tokenizer;
let written: RawTokenizer;
let source: RawTokenizer;
beforeAll(async () => {
  dir = tmp();
  ids = writeTinyQwenTokenizer(dir);
  tiny = await loadTokenizer(dir);
  full = await loadTokenizer(bundledQwen3TokenizerDir());
  written = readJson(path.join(dir, "tokenizer.json"));
  source = readJson(path.join(bundledQwen3TokenizerDir(), "tokenizer.json"));
});

const newIdOf = (oldId: number) => {
  const k = source.added_tokens.findIndex((t) => t.id === oldId);
  return k < 0 ? oldId : 256 + NUM_MERGES + k;
};
/** Character offsets where each token ends; byte-level tokens spell one character per byte. */
function tokenEnds(raw: RawTokenizer, tokenIds: number[]): number[] {
  const tokenOf = new Map<number, string>(Object.entries(raw.model.vocab).map(([s, id]) => [id, s]));
  for (const t of raw.added_tokens) tokenOf.set(t.id, t.content);
  let end = 0;
  return tokenIds.map((id) => (end += tokenOf.get(id)!.length));
}

describe("writeTinyQwenTokenizer files", () => {
  it("uses each id below vocabSize exactly once", () => {
    const all = [...Object.values(written.model.vocab), ...written.added_tokens.map((t) => t.id)];
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: SIZE }, (_, i) => i));
  });

  it("keeps the byte tokens and the first merges under their original ids", () => {
    expect(written.model.merges).toEqual(source.model.merges.slice(0, NUM_MERGES));
    for (const [token, id] of Object.entries(written.model.vocab)) expect(source.model.vocab[token]).toBe(id);
  });

  it("renumbers the added tokens, in order, right after the merges; flags unchanged", () => {
    expect(written.added_tokens).toEqual(source.added_tokens.map((t, k) => ({ ...t, id: 256 + NUM_MERGES + k })));
    expect(ids.eosTokenId).toBe(SIZE - NUM_ADDED + 2); // <|im_end|> is Qwen's third added token
    expect(ids.padTokenId).toBe(SIZE - NUM_ADDED);
    expect(ids.bosTokenId).toBe(SIZE - NUM_ADDED);
    expect(ids.addedTokenIds["</think>"]).toBe(SIZE - 1);
  });

  it("copies pipeline, flags and chat template unchanged", () => {
    const drop = (o: Record<string, unknown>, ...keys: string[]) =>
      Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
    expect(drop(written, "model", "added_tokens")).toEqual(drop(source, "model", "added_tokens"));
    expect(drop(written.model, "vocab", "merges")).toEqual(drop(source.model, "vocab", "merges"));
    const config = readJson(path.join(dir, "tokenizer_config.json"));
    const sourceConfig = readJson(path.join(bundledQwen3TokenizerDir(), "tokenizer_config.json"));
    expect(drop(config, "added_tokens_decoder")).toEqual(drop(sourceConfig, "added_tokens_decoder"));
    expect(Object.values(config.added_tokens_decoder)).toEqual(Object.values(sourceConfig.added_tokens_decoder));
    expect(Object.keys(config.added_tokens_decoder).map(Number)).toEqual(written.added_tokens.map((t) => t.id));
  });

  it("writes the same bytes every time, far smaller than the 11 MB source", () => {
    const again = tmp();
    writeTinyQwenTokenizer(again, { vocabSize: SIZE });
    for (const f of ["tokenizer.json", "tokenizer_config.json"])
      expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(dir, f)))).toBe(true);
    expect(fs.statSync(path.join(bundledQwen3TokenizerDir(), "tokenizer.json")).size).toBeGreaterThan(10e6);
    expect(fs.statSync(path.join(dir, "tokenizer.json")).size).toBeLessThan(300e3);
  });

  it("rejects a vocabSize that cannot hold the byte and added tokens, or exceeds the source", () => {
    for (const vocabSize of [256 + NUM_ADDED, 151670, 8192.5])
      expect(() => writeTinyQwenTokenizer(tmp(), { vocabSize })).toThrow(/vocabSize .* must be an integer in/);
  });
});

describe("the tiny tokenizer loaded with loadTokenizer", () => {
  const chat = () =>
    full.renderChat(
      [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "Send $40 to my sister Ana — 谢谢! 🙏" },
        { role: "assistant", content: '<think>\nOk.\n</think>\n\n<tool_call>\n{"name": "transfer_money", "arguments": {"to": "ANA-22", "amount": 40}}\n</tool_call>' },
        { role: "tool", content: '{"ok": true}' },
      ],
      { addGenerationPrompt: true },
    );

  it("reports the ids it was written with", () => {
    expect(tiny.vocabSize).toBe(SIZE);
    expect(tiny.eosTokenIds).toEqual([ids.eosTokenId, ids.padTokenId]);
    expect(tiny.padTokenId).toBe(ids.padTokenId);
  });

  it("encodes every added token to its single new id", () => {
    for (const [content, id] of Object.entries(ids.addedTokenIds)) expect(tiny.encode(content)).toEqual([id]);
  });

  it("encodes any text to ids below vocabSize and decodes it back exactly", () => {
    const texts = [chat(), "東京で寿司を食べた。😀👩‍👩‍👧 Ελληνικά", "def f(x):\n\treturn {'a': x ** 2}  # ok\r\n", "zxqv\u00a0\u2028 \u0007"];
    for (const text of texts) {
      const encoded = tiny.encode(text);
      expect(encoded.every((id) => Number.isInteger(id) && id >= 0 && id < SIZE)).toBe(true);
      expect(tiny.decode(encoded)).toBe(text);
    }
  });

  it("matches the full tokenizer on text whose full ids are all kept", () => {
    const text = "<|im_start|>user\nI can not do that. We have to find the way to work with the data in the file, and then call the user back.<|im_end|>\n";
    const fullIds = full.encode(text);
    expect(fullIds.every((id) => id < 256 + NUM_MERGES || id >= 151643)).toBe(true); // precondition
    expect(tiny.encode(text)).toEqual(fullIds.map(newIdOf));
  });

  it("otherwise splits each full token into whole tiny tokens", () => {
    // Merges apply in rank order and every merge makes a token of higher rank than its parts,
    // so the tiny run is the full run stopped early: each full token is a run of tiny tokens.
    const text = chat();
    const fullEnds = tokenEnds(source, full.encode(text));
    const tinyEnds = new Set(tokenEnds(written, tiny.encode(text)));
    expect(fullEnds.filter((end) => !tinyEnds.has(end))).toEqual([]);
    expect(Math.max(...tinyEnds)).toBe(fullEnds.at(-1));
    expect(tinyEnds.size).toBeGreaterThan(fullEnds.length); // the chat text does use merges past the cut
  });

  it("works at other sizes", async () => {
    const small = tmp();
    writeTinyQwenTokenizer(small, { vocabSize: 300 });
    const t = await loadTokenizer(small);
    const text = "Hello, world! <tool_call>{}</tool_call>";
    expect(t.vocabSize).toBe(300);
    expect(t.decode(t.encode(text))).toBe(text);
    expect(t.encode("<tool_call>")).toEqual([300 - NUM_ADDED + 14]); // <tool_call> is added token 14
  });
});
