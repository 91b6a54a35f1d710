/**
 * Data parallelism over worker threads. tfjs-wasm computes on one core; a `Pool` of `threads`
 * runs this thread plus `threads − 1` workers (worker.ts), each with its own wasm instance and its
 * own copy of the model, loaded from the same folder. Two kinds of work are split:
 * - rollouts: a batch of episode jobs is cut into contiguous parts, one per thread. Every episode
 *   has its own seeded streams (sampler, sandbox) and batched rows do not influence each other,
 *   so the episodes are the same whichever thread ran them;
 * - gradients: a phase's micro-batches are cut into contiguous parts of similar token count. The
 *   trainable values are sent to the workers before each pass; each micro-batch's gradient comes
 *   back on its own and the caller sums them in micro-batch order, as one thread would.
 * So a run's numbers do not depend on `threads` (tested); only its wall time does. Workers cost
 * memory: each holds a full copy of the model in float32.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import type { LoraConfig } from "../lora/lora.ts";
import type { BackendName } from "../model/backend.ts";
import { setNativeThreads } from "../model/native-kernels.ts";
import type { Adapters } from "../model/qwen.ts";
import type { QwenModel } from "../model/weights.ts";
import { runEpisodes, type Episode, type Policy, type RolloutOptions } from "../rollout/rollout.ts";
import type { Scenario } from "../scenario/schema.ts";
import { assert } from "../util/assert.ts";
import type { Rng, RngState } from "../util/rng.ts";
import { gradientShard, type GradientTask, type MicroBatchGrads } from "./gradients.ts";

/** What a worker trains or samples with, beside its base model: a LoRA of this shape, or every weight (warm start "all"). */
export type TargetSpec = { kind: "lora"; config: LoraConfig } | { kind: "all" };
/** The trainable values a worker is sent, in variable order. */
export type TargetValues = { spec: TargetSpec; values: Float32Array[] };

export type EpisodeJob = { scenario: Scenario; rng: Rng };
/** The LoRA a policy samples with, as the workers rebuild it: its shape and its variables. */
export type SharedLora = { config: LoraConfig; variables: readonly tf.Variable[] };

export type WorkerRequest =
  | { op: "load"; dir: string; backend: BackendName; nativeThreads: number }
  | { op: "rollout"; target?: TargetValues; jobs: { scenario: Scenario; rng: RngState }[]; opts: RolloutOptions }
  | { op: "begin"; target: TargetSpec; task: GradientTask }
  | { op: "grads"; values: Float32Array[] }
  | { op: "end" };
/** `error`: the message the user sees; `stack`: the worker's trace, kept on the Error for debugging. */
export type WorkerReply = { id: number; result?: unknown; error?: string; stack?: string };

/** This thread's trainable model for a gradient phase, and the same target as a worker builds it. */
export type LocalTarget = { model: QwenModel; adapters?: Adapters; variables: readonly tf.Variable[]; spec: TargetSpec };

export type GradientPhase = {
  /** One gradient pass at the variables' current values; `onResult` gets every micro-batch's, in order. */
  run(onResult: (r: MicroBatchGrads) => void): Promise<void>;
  end(): Promise<void>;
};

export type Pool = {
  /** This thread plus the workers. */
  threads: number;
  /** Every worker loads the checkpoint in `dir`: the one this thread runs. */
  load(dir: string): Promise<void>;
  /** Episodes of `jobs`, in job order. `lora`: the adapters `policy` samples with, when it has any. */
  runEpisodes(policy: Policy, jobs: readonly EpisodeJob[], opts: RolloutOptions, lora?: SharedLora): Promise<Episode[]>;
  gradients(local: LocalTarget, task: GradientTask): Promise<GradientPhase>;
  close(): Promise<void>;
};

/** One thread per core, up to 4 (each thread holds a copy of the model). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** Contiguous parts of `costs`' indices, at most `parts` of them, each cut where the running cost is nearest an equal share. */
export function balancedRanges(costs: readonly number[], parts: number): [number, number][] {
  const total = costs.reduce((a, c) => a + c, 0);
  const n = Math.min(parts, costs.length);
  const prefix = [0]; // prefix[i] = cost of the items before i
  for (const c of costs) prefix.push(prefix[prefix.length - 1] + c);
  const cuts = [0];
  for (let k = 1; k < n; k++) {
    const target = (total * k) / n;
    // the cut i (items < i go left) nearest the target, leaving room for the parts still to come
    let best = cuts[k - 1] + 1;
    for (let i = best; i <= costs.length - (n - k); i++) if (Math.abs(prefix[i] - target) < Math.abs(prefix[best] - target)) best = i;
    cuts.push(best);
  }
  cuts.push(costs.length);
  return n === 0 ? [] : cuts.slice(0, -1).map((c, k) => [c, cuts[k + 1]]);
}

const snapshot = async (variables: readonly tf.Variable[]) => (await Promise.all(variables.map((v) => v.data()))).map((d) => Float32Array.from(d as Float32Array));

/** A pool with `threads − 1` workers on `backend` (wasm and cpu; other backends run on one thread). */
export async function startPool(threads: number, backend: BackendName): Promise<Pool> {
  assert(Number.isInteger(threads) && threads >= 1, `threads = ${threads}: expected a positive integer`);
  const workerCount = backend === "wasm" || backend === "cpu" ? threads - 1 : 0;
  const workers = Array.from({ length: workerCount }, (_, k) => startWorker(k + 1));
  // the cores are shared out: each thread's native products use its part of them
  const nativeThreads = Math.max(1, Math.floor(os.availableParallelism() / (workerCount + 1)));
  setNativeThreads(nativeThreads);
  let loaded: string | undefined;
  const pool: Pool = {
    threads: workerCount + 1,
    async load(dir) {
      if (dir === loaded) return;
      await Promise.all(workers.map((w) => w.call({ op: "load", dir, backend, nativeThreads })));
      loaded = dir;
    },
    async runEpisodes(policy, jobs, opts, lora) {
      assert(!policy.adapters || lora !== undefined || workers.length === 0, "runEpisodes: a policy with adapters needs their variables to share them");
      const ranges = balancedRanges(jobs.map(() => 1), workers.length + 1);
      if (ranges.length < 2) return runEpisodes(policy, jobs, opts);
      assert(loaded !== undefined, "pool: load() the model before sharing work");
      const target = lora && policy.adapters ? { spec: { kind: "lora" as const, config: lora.config }, values: await snapshot(lora.variables) } : undefined;
      const remote = ranges.slice(1).map(([a, b], k) => workers[k].call({
        op: "rollout", target, opts, jobs: jobs.slice(a, b).map((j) => ({ scenario: j.scenario, rng: j.rng.state() })),
      }) as Promise<Episode[]>);
      const [a0, b0] = ranges[0];
      const local = await runEpisodes(policy, jobs.slice(a0, b0), opts);
      return [...local, ...(await Promise.all(remote)).flat()];
    },
    async gradients(local, task) {
      // cost ≈ tokens through the model
      const ranges = balancedRanges(task.microBatches.map((mb) => mb.episodes.reduce((a, e) => a + e.tokens.length, 0)), workers.length + 1);
      const part = ([a, b]: [number, number]): GradientTask => ({ ...task, microBatches: task.microBatches.slice(a, b) });
      const used = workers.slice(0, ranges.length - 1);
      if (used.length > 0) assert(loaded !== undefined, "pool: load() the model before sharing work");
      const begun = used.map((w, k) => w.call({ op: "begin", target: local.spec, task: part(ranges[k + 1]) }));
      // this thread's batches and reference log-probs meanwhile
      const [mine, theirs] = await Promise.allSettled([gradientShard(local.model, local, part(ranges[0])), Promise.all(begun)]);
      if (theirs.status === "rejected") {
        if (mine.status === "fulfilled") mine.value.dispose();
        throw theirs.reason;
      }
      if (mine.status === "rejected") throw mine.reason;
      const shard = mine.value;
      return {
        async run(onResult) {
          const current = used.length > 0 ? await snapshot(local.variables) : [];
          const remote = used.map((w) => w.call({ op: "grads", values: current }) as Promise<{ grads: Float32Array[]; scalars: number[] }[]>);
          await shard.run(onResult);
          for (const results of await Promise.all(remote))
            for (const r of results) onResult({ grads: r.grads.map((g, k) => tf.tensor(g, local.variables[k].shape)), scalars: r.scalars });
        },
        async end() {
          shard.dispose();
          await Promise.all(used.map((w) => w.call({ op: "end" })));
        },
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
  return pool;
}

/** The pool of a caller that shares nothing: everything on this thread. */
export const IN_PROCESS: Pool = {
  threads: 1,
  load: async () => {},
  runEpisodes: (policy, jobs, opts) => runEpisodes(policy, jobs, opts),
  async gradients(local, task) {
    const shard = await gradientShard(local.model, local, task);
    return { run: (onResult) => shard.run(onResult), end: async () => shard.dispose() };
  },
  close: async () => {},
};

type WorkerClient = { call(req: WorkerRequest): Promise<unknown>; terminate(): Promise<number> };

function startWorker(index: number): WorkerClient {
  const worker = new Worker(new URL("./worker-entry.js", import.meta.url));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on("message", (reply: WorkerReply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) p?.reject(Object.assign(new Error(`worker thread ${index}: ${reply.error}`), { stack: reply.stack }));
    else p?.resolve(reply.result);
  });
  worker.on("error", (e) => failAll(new Error(`worker thread ${index} crashed: ${e.message}`, { cause: e })));
  worker.on("exit", (code) => failAll(new Error(`worker thread ${index} exited (code ${code})`)));
  return {
    call(req) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, ...req });
      });
    },
    terminate: () => worker.terminate(),
  };
}
