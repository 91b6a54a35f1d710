/**
 * Token sequences of reference episodes (the scripted agent) for the supervised warm start:
 * the same prompt and turn suffixes the sampler produces, with the assistant turns (and the
 * turn-end token that closes each) marked as trainable.
 */
import { encodeChatPrompt, encodeTurnSuffix, type ChatMessage, type Tokenizer, type ToolSpec } from "../model/tokenizer.ts";
import { startEpisode, type EpisodeOptions, type EpisodeRecord } from "../sandbox/episode.ts";
import { scriptedEpisode } from "../sandbox/scripted-agent.ts";
import type { Decision, Scenario } from "../scenario/schema.ts";
import type { Episode } from "./rollout.ts";

export function referenceEpisode(tok: Tokenizer, scenario: Scenario, behaviour: Decision, opts: EpisodeOptions): Episode {
  const env = startEpisode(scenario, opts); // only for the prompt: the scripted run has its own env
  const record: EpisodeRecord = scriptedEpisode(scenario, behaviour, opts);
  const turnEnd = tok.eosTokenIds[0];
  const tokens: number[] = [];
  const sampled: number[] = [];
  const push = (ids: readonly number[], isSampled: boolean) => ids.forEach((id) => (tokens.push(id), sampled.push(isSampled ? 1 : 0)));
  push(encodeChatPrompt(tok, env.messages as ChatMessage[], { tools: env.tools as unknown as ToolSpec[] }), false);
  const msgs = record.messages;
  for (let i = 0; i < msgs.length; i++) {
    if (msgs[i].role !== "assistant") continue;
    push([...tok.encode(msgs[i].content), turnEnd], true);
    let j = i + 1;
    while (j < msgs.length && msgs[j].role !== "assistant") j++;
    if (j < msgs.length) push(encodeTurnSuffix(tok, msgs.slice(i + 1, j) as ChatMessage[], { lastSampledId: turnEnd }), false);
  }
  return {
    scenarioId: scenario.id,
    record,
    tokens: Int32Array.from(tokens),
    sampled: Uint8Array.from(sampled),
    logprobs: new Float32Array(tokens.length),
  };
}
