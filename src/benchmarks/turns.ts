/**
 * One greedy assistant turn for each of many conversations, batched: each conversation is rendered
 * with the model folder's own chat template (tools in the system prompt, Qwen style), the prompts
 * are sorted by length so a batch pads little, and `generate` runs a batch at a time with a KV
 * cache. A conversation that cannot be rendered, or whose prompt leaves no room for the new tokens
 * in the model's context, comes back as `{ ok: false, reason }` instead of failing the run.
 * Multi-turn episodes with a sandbox are `rollout/rollout.ts`'s job, not this file's.
 */
import { generate, type Generation } from "../model/generate.ts";
import { encodeChatPrompt, type ChatMessage, type ToolSpec } from "../model/tokenizer.ts";
import type { Policy } from "../rollout/rollout.ts";
import { seededRng } from "../util/rng.ts";

/** A conversation to continue. `tools` go to the template as given (a benchmark's own function docs). */
export type Conversation = { messages: readonly ChatMessage[]; tools?: readonly object[] };

export type TurnOptions = {
  /** New tokens per turn at most. */
  maxNewTokens: number;
  /** Conversations per `generate` call. */
  batchSize: number;
};

export type Turn =
  | { ok: true; text: string; isTruncated: boolean; promptTokens: number; newTokens: number }
  | { ok: false; reason: string };

export const GREEDY = { temperature: 0, topK: 0, topP: 1 } as const;

/**
 * Attention scores of a prefill hold B·H·T² floats at once; past this many a batch is cut into
 * fewer rows (down to one), so a few long prompts do not exhaust the wasm heap (4 GiB).
 */
const SCORE_FLOATS_PER_BATCH = 2 ** 26;

/** Rows of a batch whose longest sequence has `tokens` tokens: at most `batchSize`, at least 1. */
export function rowsFor(policy: Policy, tokens: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(SCORE_FLOATS_PER_BATCH / (policy.model.config.numHeads * tokens * tokens))));
}

type Encoded = { index: number; ids: number[] };

/** `messages` with `system` in front: merged into a leading system message the data already has. */
export function withSystem(messages: readonly ChatMessage[], system: string | undefined): ChatMessage[] {
  if (system === undefined) return [...messages];
  if (messages[0]?.role === "system") return [{ role: "system", content: `${system}\n\n${messages[0].content}` }, ...messages.slice(1)];
  return [{ role: "system", content: system }, ...messages];
}

/** Renders and tokenizes each conversation; failures go straight into `out`. */
function encodeAll(policy: Policy, conversations: readonly Conversation[], maxNewTokens: number, out: Turn[]): Encoded[] {
  const limit = policy.model.config.maxPositionEmbeddings;
  const encoded: Encoded[] = [];
  conversations.forEach((c, index) => {
    let ids: number[];
    try {
      ids = encodeChatPrompt(policy.tokenizer, c.messages, { tools: c.tools as ToolSpec[] | undefined });
    } catch (error) {
      out[index] = { ok: false, reason: `chat template: ${(error as Error).message.split("\n")[0].slice(0, 160)}` };
      return;
    }
    if (ids.length + maxNewTokens > limit) out[index] = { ok: false, reason: `prompt too long for the model's context (${limit} tokens)` };
    else encoded.push({ index, ids });
  });
  return encoded.sort((a, b) => b.ids.length - a.ids.length || a.index - b.index);
}

/**
 * Greedy turns, in input order. `onProgress(done, total)` runs after each batch.
 * Output text keeps special tokens (`<tool_call>` is one) and drops the stop token.
 */
export async function generateTurns(
  policy: Policy,
  conversations: readonly Conversation[],
  opts: TurnOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<Turn[]> {
  const out: Turn[] = new Array(conversations.length);
  const encoded = encodeAll(policy, conversations, opts.maxNewTokens, out);
  const tok = policy.tokenizer;
  const stopIds = [...new Set([...tok.eosTokenIds, ...policy.model.config.eosTokenIds])];
  let done = conversations.length - encoded.length;
  for (let start = 0; start < encoded.length; ) {
    // sorted longest first: the first row sets the batch's width
    const batch = encoded.slice(start, start + rowsFor(policy, encoded[start].ids.length + opts.maxNewTokens, opts.batchSize));
    start += batch.length;
    let generations: Generation[];
    try {
      generations = await generate(policy.model, batch.map((e) => e.ids), {
        ...GREEDY, maxNewTokens: opts.maxNewTokens, stopIds, rngs: batch.map((e) => seededRng(e.index)), adapters: policy.adapters, padId: tok.padTokenId,
      });
    } catch (error) {
      const reason = `generation failed: ${(error as Error).message.slice(0, 120)}`;
      batch.forEach((e) => (out[e.index] = { ok: false, reason }));
      generations = [];
    }
    generations.forEach((g, r) => {
      const e = batch[r];
      const ids = g.finish === "stop" ? g.tokens.slice(0, -1) : g.tokens;
      out[e.index] = { ok: true, text: tok.decode(ids), isTruncated: g.finish === "length", promptTokens: e.ids.length, newTokens: g.tokens.length };
    });
    done += batch.length;
    onProgress?.(done, conversations.length);
  }
  return out;
}
