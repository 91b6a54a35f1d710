/**
 * Resumable checkpoints: the adapter (PEFT layout), Adam's moments and step, and the index of
 * the next GRPO step. Every random choice of a step is derived from (seed, step), so that index
 * is the whole RNG state. Written to a temp folder and renamed, so a kill never leaves a torn
 * checkpoint: the previous one stays until the new one is complete.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadAdapter, snapshotAdapter, writeAdapter } from "../lora/peft.ts";
import type { Lora } from "../lora/lora.ts";
import { openSafetensors, writeSafetensors } from "../model/safetensors.ts";
import type { QwenModel } from "../model/weights.ts";
import type { AdamState } from "./adam.ts";

export type CheckpointState = { nextStep: number; adamStep: number };

const STATE_FILE = "state.json";
const OPTIMIZER_FILE = "optimizer.safetensors";

/** Fills a temp folder with `fill`, then swaps it in for `dir`: `dir` is the old or the new one, never torn. */
export function replaceDir(dir: string, fill: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fill(tmp);
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Reads the adapter and moments back (asynchronously: no synchronous GPU read), then writes them. */
export async function saveCheckpoint(dir: string, lora: Lora, adam: AdamState, state: CheckpointState, baseModelDir: string): Promise<void> {
  const adapter = await snapshotAdapter(lora);
  const moments = [...adam.m.map((t, i) => [`m.${i}`, t] as const), ...adam.v.map((t, i) => [`v.${i}`, t] as const)];
  const values = await Promise.all(moments.map(([, t]) => t.data()));
  replaceDir(dir, (tmp) => {
    writeAdapter(path.join(tmp, "adapter"), adapter, { baseModelDir });
    writeSafetensors(path.join(tmp, OPTIMIZER_FILE), moments.map(([name, t], i) => ({ name, shape: t.shape, data: values[i] as Float32Array })));
    fs.writeFileSync(path.join(tmp, STATE_FILE), `${JSON.stringify(state)}\n`);
  });
}

/** Restores the adapter and optimiser; the caller disposes its fresh LoRA / Adam afterwards. */
export function loadCheckpoint(dir: string, model: QwenModel, vars: { lora: Lora; adam: AdamState }): CheckpointState {
  const statePath = path.join(dir, STATE_FILE);
  if (!fs.existsSync(statePath)) throw new Error(`${dir}: no ${STATE_FILE}; not a trirl checkpoint (is the run folder right?)`);
  const state = JSON.parse(fs.readFileSync(statePath, "utf8")) as CheckpointState;
  const saved = loadAdapter(path.join(dir, "adapter"), model);
  try {
    if (saved.variables.length !== vars.lora.variables.length)
      throw new Error(`${dir}: checkpoint has ${saved.variables.length} LoRA tensors, the run config makes ${vars.lora.variables.length}`);
    vars.lora.variables.forEach((v, i) => v.assign(saved.variables[i]));
  } finally {
    saved.variables.forEach((v) => v.dispose());
  }
  const file = openSafetensors(path.join(dir, OPTIMIZER_FILE));
  try {
    const restore = (list: tf.Variable[], prefix: string) =>
      list.forEach((t, i) => t.assign(tf.tensor(file.read(`${prefix}.${i}`), t.shape)));
    tf.tidy(() => {
      restore(vars.adam.m, "m");
      restore(vars.adam.v, "v");
    });
  } finally {
    file.close();
  }
  vars.adam.step = state.adamStep;
  return state;
}
