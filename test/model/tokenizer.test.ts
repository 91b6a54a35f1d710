// Tokenizer loading and Qwen3 tokenization, checked against facts read straight from the
// shipped tokenizer.json (not through the tokenizer under test) and against known Qwen ids.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundledQwen3TokenizerDir, hasTokenizer, loadTokenizer, type Tokenizer } from "../../src/model/tokenizer.ts";

type RawTokenizer = {
  model: { vocab: Record<string, number>; merges: [string, string][] };
  added_tokens: { id: number; content: string; special: boolean }[];
};

let tok: Tokenizer;
let raw: RawTokenizer;
beforeAll(async () => {
  const dir = bundledQwen3TokenizerDir();
  tok = await loadTokenizer(dir);
  raw = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")) as RawTokenizer;
});

/** GPT-2's byte → printable character table, written out from its definition. */
function byteLevelSymbols(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) symbols.push(String.fromCharCode(b));
  let next = 256;
  for (let b = 0; b < 256; b++) if (!printable(b)) symbols.push(String.fromCharCode(next++));
  return symbols;
}

describe("Qwen3 tokenizer.json layout", () => {
  it("gives every merge the id 256 + its rank", () => {
    const wrong = raw.model.merges.findIndex(([a, b], rank) => raw.model.vocab[a + b] !== 256 + rank);
    expect(wrong).toBe(-1);
    expect(Object.keys(raw.model.vocab).length).toBe(256 + raw.model.merges.length);
  });

  it("numbers the 256 byte tokens 0..255 in GPT-2 byte-level order", () => {
    const symbols = byteLevelSymbols();
    for (let id = 0; id < 256; id++) expect(raw.model.vocab[symbols[id]]).toBe(id);
  });

  it("lists the known Qwen special and tool tokens at their ids", () => {
    const known: [string, number][] = [
      ["<|endoftext|>", 151643], ["<|im_start|>", 151644], ["<|im_end|>", 151645],
      ["<tool_call>", 151657], ["</tool_call>", 151658], ["<think>", 151667], ["</think>", 151668],
    ];
    for (const [content, id] of known) {
      expect(raw.added_tokens.find((t) => t.content === content)?.id).toBe(id);
      expect(tok.tokenToId(content)).toBe(id);
      expect(tok.encode(`a${content}b`)).toEqual([raw.model.vocab.a, id, raw.model.vocab.b]);
    }
  });
});

describe("loadTokenizer on the Qwen3 folder", () => {
  it("counts every id, added tokens included", () => {
    expect(tok.vocabSize).toBe(Math.max(...raw.added_tokens.map((t) => t.id)) + 1);
    expect(tok.vocabSize).toBe(151669);
  });

  it("takes eos from tokenizer_config.json, then <|endoftext|>; pad is <|endoftext|>", () => {
    expect(tok.eosTokenIds).toEqual([151645, 151643]);
    expect(tok.padTokenId).toBe(151643);
  });

  it("encodes a chat header to single ids with no BOS", () => {
    const v = raw.model.vocab;
    expect(tok.encode("<|im_start|>user\nhi<|im_end|>")).toEqual([151644, v.user, v["Ċ"], v.hi, 151645]);
    expect(tok.encode(" Paris")).toEqual([v["ĠParis"]]);
  });

  it("round-trips unicode, whitespace, code and JSON exactly", () => {
    // NFC text only: the tokenizer's normalizer is NFC, so other forms come back composed.
    const texts = [
      "naïve café — 東京で寿司を食べた。😀👩‍👩‍👧 Ελληνικά, русский, العربية",
      "  two leading, tabs\t\there,\r\n CRLF, trailing   \n\n\n",
      "function f(x: number): number {\n  return x ** 2; // ok\n}\n",
      '{"name": "transfer_money", "arguments": {"to": "ANA-22", "amount": 40.5, "note": "a\\"b"}}',
      "<tool_call>\n{}\n</tool_call><|im_end|>\n<think>\n\n</think>",
    ];
    for (const text of texts) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it("skips only added tokens marked special when asked", () => {
    const ids = tok.encode("<|im_start|>assistant\n<think>x</think><tool_call>{}</tool_call><|im_end|><|endoftext|>");
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("assistant\n<think>x</think><tool_call>{}</tool_call>");
  });

  it("decodes nothing to '' and drops ids past the vocabulary", () => {
    expect(tok.decode([])).toBe("");
    expect(tok.decode([raw.model.vocab.hi, 151669, 151935])).toBe("hi");
    expect(() => tok.decode([-1])).toThrow(/bad token id -1/);
  });
});

describe("loadTokenizer on small hand-written folders", () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "trirl-tok-"));
  const write = (dir: string, name: string, value: unknown) =>
    fs.writeFileSync(path.join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
  const tinyJson = {
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: [["a", "b"]] },
    added_tokens: [{ id: 3, content: "<|im_end|>", special: true, lstrip: false, rstrip: false, normalized: false, single_word: false }],
  };

  it("applies the merges and the added tokens of any BPE file", async () => {
    const dir = tmp();
    write(dir, "tokenizer.json", tinyJson);
    write(dir, "tokenizer_config.json", { eos_token: "<|im_end|>" });
    const t = await loadTokenizer(dir);
    expect(t.encode("abab<|im_end|>a")).toEqual([2, 2, 3, 0]);
    expect([t.vocabSize, t.padTokenId, ...t.eosTokenIds]).toEqual([4, 3, 3]);
    expect(() => t.renderChat([{ role: "user", content: "hi" }])).toThrow(/no chat_template/);
  });

  it("uses chat_template.jinja when tokenizer_config.json has no template", async () => {
    const dir = tmp();
    write(dir, "tokenizer.json", tinyJson);
    write(dir, "tokenizer_config.json", { eos_token: "<|im_end|>" });
    write(dir, "chat_template.jinja", "{{ messages[0].content }}{{ eos_token }}");
    expect((await loadTokenizer(dir)).renderChat([{ role: "user", content: "hi" }])).toBe("hi<|im_end|>");
  });

  it("names the missing file and gives a hint", async () => {
    const dir = tmp();
    expect(hasTokenizer(dir)).toBe(false);
    await expect(loadTokenizer(dir)).rejects.toThrow(path.join(dir, "tokenizer.json"));
    await expect(loadTokenizer(dir)).rejects.toThrow(/HINT/);
    expect(hasTokenizer(bundledQwen3TokenizerDir())).toBe(true);
  });

  it("names the file that is not JSON", async () => {
    const dir = tmp();
    write(dir, "tokenizer.json", tinyJson);
    write(dir, "tokenizer_config.json", "{ eos_token: ");
    await expect(loadTokenizer(dir)).rejects.toThrow(`${path.join(dir, "tokenizer_config.json")} is not valid JSON`);
  });

  it("names the file and key of a non-BPE model and of an unknown eos_token", async () => {
    const dir = tmp();
    write(dir, "tokenizer.json", { ...tinyJson, model: { type: "WordPiece", vocab: {} } });
    write(dir, "tokenizer_config.json", {});
    await expect(loadTokenizer(dir)).rejects.toThrow(`${path.join(dir, "tokenizer.json")}: model.type`);
    write(dir, "tokenizer.json", tinyJson);
    write(dir, "tokenizer_config.json", { eos_token: "</s>" });
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer_config.json: eos_token "<\/s>" is not in/);
  });
});
