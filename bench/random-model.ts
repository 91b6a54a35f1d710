/**
 * Random-weight models with the exact shapes of real checkpoints, built in memory (no file), for
 * speed and memory benchmarks. Weights ~ N(0, 0.02²), norms 1: numbers are meaningless, shapes real.
 */
import * as tf from "@tensorflow/tfjs";
import { toQwenConfig } from "../src/model/hf-config.ts";
import type { Layout } from "../src/model/matmul.ts";
import { defaultLayout, LINEAR_NAMES, linearKey, linearShape, type LayerWeights, type Linear, type QwenModel } from "../src/model/weights.ts";

/** Qwen2.5-0.5B(-Instruct) config.json, the fields that matter. */
export const QWEN25_05B_CONFIG = {
  model_type: "qwen2", hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, rms_norm_eps: 1e-6,
  rope_theta: 1000000, tie_word_embeddings: true, max_position_embeddings: 32768, eos_token_id: 151645,
};

export function randomModel(hfConfig: object, seed: number, layout?: Layout): QwenModel {
  const config = toQwenConfig(hfConfig, "random model");
  layout ??= defaultLayout(config);
  let n = seed;
  const normal = (shape: number[]) => tf.randomNormal(shape, 0, 0.02, "float32", n++);
  const layers = Array.from({ length: config.numLayers }, (_, i): LayerWeights => {
    const linears = {} as Record<(typeof LINEAR_NAMES)[number], Linear>;
    for (const name of LINEAR_NAMES) {
      const [out, inp] = linearShape(config, name);
      const hasBias = config.hasQkvBias && ["q_proj", "k_proj", "v_proj"].includes(name);
      linears[name] = { key: linearKey(i, name), weight: { t: normal(layout === "in-out" ? [inp, out] : [out, inp]) as tf.Tensor2D, layout }, bias: hasBias ? (normal([out]) as tf.Tensor1D) : undefined };
    }
    const norm = (d: number) => tf.ones([d]) as tf.Tensor1D;
    return {
      inputNorm: norm(config.hiddenSize), postAttentionNorm: norm(config.hiddenSize), linears,
      qNorm: config.hasQkNorm ? norm(config.headDim) : undefined, kNorm: config.hasQkNorm ? norm(config.headDim) : undefined,
    };
  });
  const [c, v] = [config.hiddenSize, config.vocabSize];
  const lmHead = { t: normal(layout === "in-out" ? [c, v] : [v, c]) as tf.Tensor2D, layout };
  const embed = config.tieWordEmbeddings ? undefined : (normal([config.vocabSize, config.hiddenSize]) as tf.Tensor2D);
  return { config, dir: "(random)", weights: { embed, layers, finalNorm: tf.ones([config.hiddenSize]) as tf.Tensor1D, lmHead } };
}
