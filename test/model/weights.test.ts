/**
 * Parameter counts (against the checkpoint files and Qwen2.5-0.5B's published size) and the
 * automatic choice of weight layout.
 */
import { describe, expect, it } from "vitest";
import { readQwenConfig, toQwenConfig } from "../../src/model/hf-config.ts";
import { openCheckpoint } from "../../src/model/safetensors.ts";
import { initBackend } from "../../src/model/backend.ts";
import { nativeAddon } from "../../src/model/native-kernels.ts";
import { defaultLayout, parameterCount, PACKED_COPY_LIMIT_BYTES } from "../../src/model/weights.ts";
import { FIXTURE_NAMES, fixtureDir } from "../helpers/fixtures.ts";

/** Qwen2.5-0.5B-Instruct's config.json (the fields the count depends on). */
const QWEN25_05B = toQwenConfig({
  model_type: "qwen2", hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, rms_norm_eps: 1e-6,
  rope_theta: 1000000, tie_word_embeddings: true, max_position_embeddings: 32768, eos_token_id: 151645,
}, "test");

describe("parameterCount", () => {
  it.each(FIXTURE_NAMES)("%s: equals the number of values stored in the checkpoint", (name) => {
    const cfg = readQwenConfig(fixtureDir(name));
    const ckpt = openCheckpoint(fixtureDir(name));
    let stored = 0;
    for (const [key, entry] of ckpt.entries)
      if (!(cfg.tieWordEmbeddings && key === "lm_head.weight")) stored += entry.shape.reduce((a, d) => a * d, 1);
    ckpt.close();
    expect(parameterCount(cfg)).toBe(stored);
  });

  it("Qwen2.5-0.5B: 494,032,768, 0.36 B of them outside the embedding (model card: 0.49 B, 0.36 B)", () => {
    expect(parameterCount(QWEN25_05B)).toBe(494_032_768);
    expect(((parameterCount(QWEN25_05B) - 151936 * 896) / 1e9).toFixed(2)).toBe("0.36");
  });
});

describe("defaultLayout", () => {
  it("keeps small models [in, out] and stores a 0.5 B model as HF does on wasm only; every model as HF does with the native products", async () => {
    await initBackend("wasm"); // loads the native addon, when built
    const isNative = nativeAddon() !== undefined;
    expect(parameterCount(QWEN25_05B) * 4).toBeGreaterThan(PACKED_COPY_LIMIT_BYTES);
    expect(defaultLayout(QWEN25_05B, "wasm")).toBe("out-in");
    expect(defaultLayout(QWEN25_05B, "webgpu")).toBe("in-out");
    for (const name of FIXTURE_NAMES) expect(defaultLayout(readQwenConfig(fixtureDir(name)), "wasm")).toBe(isNative ? "out-in" : "in-out");
  });
});
