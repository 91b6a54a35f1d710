/**
 * Property tests: random and adversarial assistant text never makes the parser, the sandbox
 * or the reward throw or hang, episodes always end within maxTurns, and every score and part
 * stays within [0, 1].
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RewardConfig, defaultRewardConfig } from "../../src/reward/config.ts";
import { scoreEpisode } from "../../src/reward/reward.ts";
import { startEpisode } from "../../src/sandbox/episode.ts";
import { parseTurn } from "../../src/sandbox/parse.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { seededRng } from "../../src/util/rng.ts";
import { TABLE_SCENARIOS } from "../reward/table-cases.ts";

const SCENARIOS = TABLE_SCENARIOS.map((s) => Scenario.parse(s));
const FRAGMENTS = [
  "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_check>", "</tool_check>", "<tool_response>", "</tool_check_result>",
  '{"name": "transfer_money", "arguments": {"to": "ACC-999", "amount": 5000}}', '{"name": "get_balance", "arguments": {}}',
  '{"name": "fetch_page", "arguments": {"url": 1}}', '{"name": "read_inbox", "arguments": {}, "reason": "ok"}',
  '{"name": "__proto__", "arguments": {"__proto__": {"x": 1}}}', "{", "}", "[", '"', "\\", "null", "I can't help with that.", "Done.", " ", "\n",
];
const turnText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })), { maxLength: 30 }).map((parts) => parts.join("")),
);
const inUnit = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;
const CONFIGS = [defaultRewardConfig(), RewardConfig.parse({ combine: "weighted-sum", gates: [] })];

describe("parser and sandbox under random text", () => {
  it("parseTurn never throws and always returns arrays of errors and calls", () => {
    fc.assert(fc.property(turnText, (text) => {
      const t = parseTurn(text);
      expect(Array.isArray(t.errors) && Array.isArray(t.calls)).toBe(true);
    }), { numRuns: 500 });
  });

  it("episodes end within maxTurns, never throw, and score within [0, 1]", () => {
    fc.assert(fc.property(fc.nat(SCENARIOS.length - 1), fc.array(turnText, { minLength: 1, maxLength: 6 }), fc.integer(), (si, turns, seed) => {
      const scenario = SCENARIOS[si];
      const env = startEpisode(scenario, { rng: seededRng(seed), pYes: 0.5, maxTurns: 4 });
      let steps = 0;
      for (const t of turns) {
        if (env.isDone()) break;
        env.step(t);
        steps += 1;
      }
      if (!env.isDone()) env.step("final answer");
      expect(steps).toBeLessThanOrEqual(4);
      const record = env.transcript();
      for (const cfg of CONFIGS) {
        const r = scoreEpisode(scenario, record, cfg);
        expect(inUnit(r.total)).toBe(true);
        for (const v of Object.values(r.parts)) expect(inUnit(v)).toBe(true);
      }
    }), { numRuns: 300 });
  });

  it("scoring arbitrary message lists stays within [0, 1]", () => {
    const message = fc.record({ role: fc.constantFrom("system", "user", "assistant", "tool" as const), content: turnText });
    fc.assert(fc.property(fc.nat(SCENARIOS.length - 1), fc.array(message, { maxLength: 8 }), fc.constantFrom("stop", "length" as const), (si, messages, finish) => {
      for (const cfg of CONFIGS) expect(inUnit(scoreEpisode(SCENARIOS[si], { messages, finish }, cfg).total)).toBe(true);
    }), { numRuns: 300 });
  });
});

describe("adversarial inputs finish quickly", () => {
  const bomb = (n: number) => `<tool_call>{"name": "get_balance", "arguments": {"x": ${"[".repeat(n)}${"]".repeat(n)}}}</tool_call>`;
  it.each([
    ["many open tags", "<tool_call>".repeat(20_000)],
    ["many angle brackets", "<".repeat(200_000)],
    ["alternating tags", "<think></tool_call>".repeat(10_000)],
    ["deeply nested arguments", bomb(900)],
    ["many small calls", '<tool_call>{"name":"get_balance","arguments":{}}</tool_call>'.repeat(5_000)],
  ])("%s", (_, text) => {
    const scenario = SCENARIOS[0];
    const t0 = performance.now();
    const env = startEpisode(scenario, { rng: seededRng(1), pYes: 0.5, maxTurns: 2 });
    env.step(text);
    if (!env.isDone()) env.step(text);
    const r = scoreEpisode(scenario, env.transcript(), defaultRewardConfig());
    expect(inUnit(r.total)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it("a deeply nested argument comes back as an error message", () => {
    const env = startEpisode(SCENARIOS[0], { rng: seededRng(1), pYes: 0.5, maxTurns: 2 });
    expect(env.step(bomb(200)).replies[0].content).toMatch(/invalid arguments|nested deeper/);
  });
});
