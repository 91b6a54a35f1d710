/**
 * A pool worker (pool.ts): its own backend, its own copy of the model, and the trainable target
 * the main thread names (a LoRA of a given shape, or every weight). It runs what it is asked —
 * rollouts, gradient passes — at the values it is sent, and answers with plain data.
 */
import { parentPort } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { createLora, disposeLora } from "../lora/lora.ts";
import { initBackend } from "../model/backend.ts";
import { setNativeThreads } from "../model/native-kernels.ts";
import type { Adapters } from "../model/qwen.ts";
import { loadTokenizer, type Tokenizer } from "../model/tokenizer.ts";
import { disposeModel, loadModel, trainableCopy, type QwenModel } from "../model/weights.ts";
import { runEpisodes } from "../rollout/rollout.ts";
import { rngFromState } from "../util/rng.ts";
import { gradientShard, type GradientShard } from "./gradients.ts";
import type { TargetSpec, WorkerReply, WorkerRequest } from "./pool.ts";

type Target = { key: string; model: QwenModel; adapters?: Adapters; variables: tf.Variable[]; dispose(): void };

let base: { dir: string; model: QwenModel; tokenizer: Tokenizer } | undefined;
let target: Target | undefined;
let shard: GradientShard | undefined;

function loaded() {
  if (!base) throw new Error("no model loaded");
  return base;
}

/** The target for `spec`, built on first use; its values are set by `assign`. */
function targetFor(spec: TargetSpec): Target {
  const key = JSON.stringify(spec);
  if (target?.key === key) return target;
  target?.dispose();
  target = undefined;
  const { model } = loaded();
  if (spec.kind === "all") {
    const full = trainableCopy(model);
    target = { key, model: full.model, variables: full.variables, dispose: () => disposeModel(full.model) };
  } else {
    const lora = createLora(model, spec.config, 0);
    target = { key, model, adapters: lora.adapters, variables: lora.variables, dispose: () => disposeLora(lora) };
  }
  return target;
}

function assign(t: Target, values: readonly Float32Array[]): void {
  if (values.length !== t.variables.length) throw new Error(`sent ${values.length} values for ${t.variables.length} variables`);
  t.variables.forEach((v, k) => tf.tidy(() => v.assign(tf.tensor(values[k], v.shape))));
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case "load": {
      await initBackend(req.backend);
      setNativeThreads(req.nativeThreads);
      shard?.dispose();
      target?.dispose();
      [shard, target] = [undefined, undefined];
      if (base) disposeModel(base.model);
      base = undefined;
      base = { dir: req.dir, model: loadModel(req.dir), tokenizer: await loadTokenizer(req.dir) };
      return null;
    }
    case "rollout": {
      const { model, tokenizer } = loaded();
      let adapters: Adapters | undefined;
      if (req.target) {
        const t = targetFor(req.target.spec);
        assign(t, req.target.values);
        adapters = t.adapters;
      }
      return runEpisodes({ model, tokenizer, adapters }, req.jobs.map((j) => ({ scenario: j.scenario, rng: rngFromState(j.rng) })), req.opts);
    }
    case "begin": {
      shard?.dispose();
      shard = undefined;
      const t = targetFor(req.target);
      shard = await gradientShard(t.model, t, req.task);
      return null;
    }
    case "grads": {
      if (!shard || !target) throw new Error("grads before begin");
      assign(target, req.values);
      const out: Promise<{ grads: Float32Array[]; scalars: number[] }>[] = [];
      await shard.run((r) => out.push(Promise.all(r.grads.map((g) => g.data())).then((grads) => {
        tf.dispose(r.grads);
        return { grads: grads as Float32Array[], scalars: r.scalars };
      })));
      return Promise.all(out);
    }
    case "end":
      shard?.dispose();
      shard = undefined;
      return null;
  }
}

// one request at a time, in arrival order
let queue: Promise<void> = Promise.resolve();
parentPort!.on("message", (msg: WorkerRequest & { id: number }) => {
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      reply = { id: msg.id, result: await handle(msg) };
    } catch (error) {
      reply = error instanceof Error ? { id: msg.id, error: error.message, stack: error.stack } : { id: msg.id, error: String(error) };
    }
    parentPort!.postMessage(reply);
  });
});
