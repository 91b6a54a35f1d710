/**
 * Multi-turn episodes: the policy samples an assistant turn, the sandbox answers (tool results,
 * check answers), the answer's tokens are appended and sampling continues, until a final answer,
 * `maxTurns` or the episode's `maxNewTokens`. All live episodes of a step advance together: each
 * round is one batched `generate` over their full token sequences (re-prefilled; prefill is ~20×
 * cheaper per token than decoding). The sampler marks what it sampled (mask 1, with log-probs);
 * prompt, tool and check tokens carry mask 0 and are never trained on. SPEC §2.
 */
import type { Adapters } from "../model/qwen.ts";
import { generate } from "../model/generate.ts";
import type { SamplingOptions } from "../model/sample.ts";
import { encodeChatPrompt, encodeTurnSuffix, type ChatMessage, type Tokenizer, type ToolSpec } from "../model/tokenizer.ts";
import type { QwenModel } from "../model/weights.ts";
import { startEpisode, type EpisodeEnv, type EpisodeRecord } from "../sandbox/episode.ts";
import type { Scenario } from "../scenario/schema.ts";
import { seededRng, type Rng } from "../util/rng.ts";

export type Policy = { model: QwenModel; tokenizer: Tokenizer; adapters?: Adapters };

export type RolloutOptions = {
  sampling: SamplingOptions;
  /** Sampled tokens per episode, over all its turns. */
  maxNewTokens: number;
  maxTurns: number;
  /** Probability that the sandbox answers a <tool_check> with yes. */
  pYes: number;
  /** The sandbox's system message; default its own `SYSTEM_PROMPT`. */
  systemPrompt?: string;
};

/** One rollout of one scenario: the text-level record and the token-level truth. */
export type Episode = {
  scenarioId: string;
  record: EpisodeRecord;
  tokens: Int32Array; // [T] prompt + sampled + injected
  sampled: Uint8Array; // [T] 1 = sampled by the policy
  logprobs: Float32Array; // [T] sampler log-prob, 0 where sampled = 0
};

/** The token stream of one episode while it is being built. */
type Stream = { env: EpisodeEnv; tokens: number[]; sampled: number[]; logprobs: number[]; samplerRng: Rng; budget: number };

function append(s: Stream, ids: readonly number[], isSampled: boolean, logprobs?: readonly number[]): void {
  ids.forEach((id, i) => {
    s.tokens.push(id);
    s.sampled.push(isSampled ? 1 : 0);
    s.logprobs.push(isSampled ? logprobs![i] : 0);
  });
}

/** Renders the scenario's prompt; `rng` seeds both the sampler and the sandbox (separate streams). */
function openStream(policy: Policy, scenario: Scenario, rng: Rng, opts: RolloutOptions): Stream {
  const [a, b] = [rng.next(), rng.next()].map((u) => Math.floor(u * 2 ** 32));
  const env = startEpisode(scenario, { rng: seededRng(a), pYes: opts.pYes, maxTurns: opts.maxTurns, systemPrompt: opts.systemPrompt });
  const prompt = encodeChatPrompt(policy.tokenizer, env.messages as ChatMessage[], { tools: env.tools as unknown as ToolSpec[] });
  const s: Stream = { env, tokens: [], sampled: [], logprobs: [], samplerRng: seededRng(b), budget: opts.maxNewTokens };
  append(s, prompt, false);
  return s;
}

/** Runs one episode per (scenario, rng) job, batched. Episodes come back in job order. */
export async function runEpisodes(policy: Policy, jobs: readonly { scenario: Scenario; rng: Rng }[], opts: RolloutOptions): Promise<Episode[]> {
  const tok = policy.tokenizer;
  const turnEnd = tok.eosTokenIds[0]; // <|im_end|> closes a turn in Qwen's template
  const stopIds = [...new Set([...tok.eosTokenIds, ...policy.model.config.eosTokenIds])];
  const streams = jobs.map((j) => openStream(policy, j.scenario, j.rng, opts));
  for (;;) {
    const live = streams.filter((s) => !s.env.isDone());
    if (live.length === 0) break;
    // one round: every live episode samples its next assistant turn
    const turns = await generate(policy.model, live.map((s) => s.tokens), {
      ...opts.sampling,
      maxNewTokens: Math.max(...live.map((s) => s.budget)),
      stopIds,
      rngs: live.map((s) => s.samplerRng),
      adapters: policy.adapters,
      padId: tok.padTokenId,
    });
    live.forEach((s, r) => {
      // rows share one batched call, so cut each to its own remaining budget
      const n = Math.min(turns[r].tokens.length, s.budget);
      const ids = turns[r].tokens.slice(0, n);
      append(s, ids, true, turns[r].logprobs.slice(0, n));
      s.budget -= n;
      const hasEnded = stopIds.includes(ids[ids.length - 1]);
      const text = tok.decode(hasEnded ? ids.slice(0, -1) : ids);
      const { done, replies } = s.env.step(text, { isTruncated: !hasEnded });
      if (!done && s.budget > 0) append(s, encodeTurnSuffix(tok, replies as ChatMessage[], { lastSampledId: turnEnd }), false);
      else if (!done) s.env.truncate(); // out of tokens between turns
    });
  }
  return streams.map((s) => ({
    scenarioId: s.env.scenarioId,
    record: s.env.transcript(),
    tokens: Int32Array.from(s.tokens),
    sampled: Uint8Array.from(s.sampled),
    logprobs: Float32Array.from(s.logprobs),
  }));
}
