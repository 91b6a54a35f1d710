/** config.json validation and mapping to QwenConfig. */
import { describe, expect, it } from "vitest";
import { readQwenConfig, toQwenConfig } from "../../src/model/hf-config.ts";
import { fixtureDir } from "../helpers/fixtures.ts";

const base = {
  model_type: "qwen2", hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 1000, rms_norm_eps: 1e-6,
};

describe("toQwenConfig", () => {
  it("maps the qwen2 fixture: q/k/v bias, tied head, head_dim = hidden / heads", () => {
    const c = readQwenConfig(fixtureDir("qwen2-tiny"));
    expect(c).toMatchObject({ modelType: "qwen2", hasQkvBias: true, hasQkNorm: false, tieWordEmbeddings: true, headDim: 16, numKvHeads: 2, ropeTheta: 1e6 });
  });
  it("maps the qwen3 fixture: explicit head_dim 32 ≠ 64 / 4, q/k norm, no bias, untied", () => {
    const c = readQwenConfig(fixtureDir("qwen3-tiny"));
    expect(c).toMatchObject({ modelType: "qwen3", hasQkvBias: false, hasQkNorm: true, tieWordEmbeddings: false, headDim: 32 });
  });
  it("defaults num_key_value_heads to num_attention_heads and reads eos lists", () => {
    const { num_key_value_heads: _, ...noKv } = base;
    const c = toQwenConfig({ ...noKv, eos_token_id: [1, 2] }, "x");
    expect(c.numKvHeads).toBe(4);
    expect(c.eosTokenIds).toEqual([1, 2]);
  });
  const bad: [string, object, RegExp][] = [
    ["an unsupported model_type", { ...base, model_type: "llama" }, /cfg.json: model_type "llama" is not supported/],
    ["rope scaling", { ...base, rope_scaling: { type: "yarn", factor: 4 } }, /key "rope_scaling" .* is not supported/],
    ["sliding-window attention", { ...base, use_sliding_window: true }, /use_sliding_window/],
    ["a missing field", { ...base, hidden_size: undefined }, /key "hidden_size"/],
    ["a wrong type", { ...base, vocab_size: "big" }, /key "vocab_size"/],
    ["heads not divisible by kv heads", { ...base, num_key_value_heads: 3 }, /multiple of num_key_value_heads \(3\)/],
    ["another activation", { ...base, hidden_act: "gelu" }, /hidden_act/],
  ];
  it.each(bad)("rejects %s, naming the key", (_, raw, message) => {
    expect(() => toQwenConfig(raw, "cfg.json")).toThrow(message);
  });
  it("names the missing config.json", () => {
    expect(() => readQwenConfig("/nonexistent-model")).toThrow(/nonexistent-model\/config.json: not found/);
  });
});
