/** Shared helpers for the LoRA tests: full logits of a fixture, random non-zero adapters, temp folders. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Lora } from "../../src/lora/lora.ts";
import { disposeBatch, tokenBatch } from "../../src/model/inputs.ts";
import { forward, lmHead, type Adapters } from "../../src/model/qwen.ts";
import type { QwenModel } from "../../src/model/weights.ts";
import { randNormal, seededRng } from "../../src/util/rng.ts";

/** Logits [B][T][V] of `ids` (no padding), with or without adapters. */
export function logitsOf(model: QwenModel, ids: number[][], adapters?: Adapters): number[][][] {
  const batch = tokenBatch(ids, null);
  const { hidden } = forward(model, { ...batch, adapters });
  const logits = lmHead(model, hidden);
  const out = logits.arraySync() as number[][][];
  tf.dispose([hidden, logits]);
  disposeBatch(batch);
  return out;
}

/** Overwrites every A and B with N(0, std²) values, so the adapters change the output. */
export function randomizeLora(lora: Lora, seed: number, std = 0.05): void {
  lora.variables.forEach((v, i) => {
    const rng = seededRng(seed, i);
    const values = Float32Array.from({ length: v.size }, () => std * randNormal(rng));
    const t = tf.tensor(values, v.shape);
    v.assign(t);
    t.dispose();
  });
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `trirl-${label}-`));
}
