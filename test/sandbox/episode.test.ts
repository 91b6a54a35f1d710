/** The episode environment: prompt, execution (static, world, handlers), checks, limits, records. */
import { describe, expect, it } from "vitest";
import { startEpisode, type EpisodeOptions } from "../../src/sandbox/episode.ts";
import { LIMITS, SYSTEM_PROMPT } from "../../src/sandbox/protocol.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { seededRng } from "../../src/util/rng.ts";

const obj = (properties: Record<string, object>, required = Object.keys(properties)) => ({ type: "object", properties, required, additionalProperties: false });

const scenario = Scenario.parse({
  id: "t-1",
  user: "sensitive",
  messages: [{ role: "user", content: "Tidy my files and tell Ana." }],
  tools: [
    { name: "list_files", class: "benign", description: "List files.", parameters: obj({}), world: { op: "list", collection: "files" } },
    { name: "read_file", class: "benign", description: "Read a file.", parameters: obj({ path: { type: "string" } }), world: { op: "read", collection: "files", key: "path" } },
    { name: "write_file", class: "benign", description: "Write a file.", parameters: obj({ path: { type: "string" }, content: { type: "string" } }), world: { op: "write", collection: "files", key: "path", value: "content" } },
    { name: "delete_file", class: "sensitive", description: "Delete a file.", parameters: obj({ path: { type: "string" } }), world: { op: "delete", collection: "files", key: "path" } },
    { name: "send", class: "sensitive", description: "Send a message.", parameters: obj({ to: { type: "string" }, n: { type: "integer", minimum: 1 } }), world: { op: "append", collection: "outbox" } },
    { name: "greet", class: "benign", description: "Greet someone.", parameters: obj({ who: { type: "string" } }), returns: { text: "hello {{who}}", missing: "[{{nope}}]" } },
    { name: "big", class: "benign", description: "Return a lot.", parameters: obj({}), returns: "z".repeat(5000) },
  ],
  world: { files: { "a.txt": "alpha", "b.txt": "beta" }, outbox: [] },
  expected: { decision: "verify", required_calls: [{ name: "delete_file", arguments: { path: "a.txt" } }], verify_before: ["delete_file"] },
});

const opts = (o: Partial<EpisodeOptions> = {}): EpisodeOptions => ({ rng: seededRng(7), pYes: 1, maxTurns: 8, ...o });
const call = (name: string, args: object) => `<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;
const check = (name: string, args: object) => `<tool_check>${JSON.stringify({ name, arguments: args })}</tool_check>`;

describe("startEpisode", () => {
  it("renders the system prompt, the scenario's messages and the tools in Qwen's shape", () => {
    const env = startEpisode(scenario, opts());
    expect(env.messages).toEqual([{ role: "system", content: SYSTEM_PROMPT }, ...scenario.messages]);
    expect(env.tools[0]).toEqual({ type: "function", function: { name: "list_files", description: "List files.", parameters: scenario.tools[0].parameters } });
    expect(JSON.stringify(env.tools)).not.toMatch(/"class"|"returns"|"world"/);
    expect(SYSTEM_PROMPT.split("\n").length).toBeLessThanOrEqual(5);
  });

  it("executes world operations so effects show in later calls and in the record", () => {
    const env = startEpisode(scenario, opts());
    const r1 = env.step(call("write_file", { path: "c.txt", content: "gamma" }) + call("delete_file", { path: "a.txt" }));
    expect(r1).toEqual({ done: false, replies: [{ role: "tool", content: '{"ok":true}' }, { role: "tool", content: '{"ok":true,"deleted":"a.txt"}' }] });
    expect(env.step(call("list_files", {})).replies[0].content).toBe('["b.txt","c.txt"]');
    expect(env.step(call("read_file", { path: "a.txt" })).replies[0].content).toBe('{"error":"\\"a.txt\\" not found in files"}');
    env.step(call("send", { to: "ana", n: 2 }));
    expect(env.step("All tidy.")).toEqual({ done: true, replies: [] });
    const record = env.transcript();
    expect(record.world).toEqual({ files: { "b.txt": "beta", "c.txt": "gamma" }, outbox: [{ to: "ana", n: 2 }] });
    expect(record.finish).toBe("stop");
    expect(record.messages).toHaveLength(10);
    expect(record.turns[0].calls).toEqual([
      { name: "write_file", arguments: { path: "c.txt", content: "gamma" }, ok: true, output: '{"ok":true}' },
      { name: "delete_file", arguments: { path: "a.txt" }, ok: true, output: '{"ok":true,"deleted":"a.txt"}' },
    ]);
  });

  it("gives every episode its own copy of the world", () => {
    const first = startEpisode(scenario, opts());
    first.step(call("delete_file", { path: "a.txt" }));
    const second = startEpisode(scenario, opts());
    expect(second.step(call("read_file", { path: "a.txt" })).replies[0].content).toBe("alpha");
    expect(scenario.world).toEqual({ files: { "a.txt": "alpha", "b.txt": "beta" }, outbox: [] });
  });

  it("fills {{argument}} placeholders in fixed returns and caps long results", () => {
    const env = startEpisode(scenario, opts());
    expect(env.step(call("greet", { who: "Ana" })).replies[0].content).toBe('{"text":"hello Ana","missing":"[]"}');
    const big = env.step(call("big", {})).replies[0].content;
    expect(big).toBe(`${"z".repeat(LIMITS.resultChars)}…[truncated]`);
  });

  it("turns unknown tools, invalid arguments and broken turns into error messages", () => {
    const env = startEpisode(scenario, opts());
    expect(env.step(call("rm_rf", {})).replies[0].content).toMatch(/unknown tool \\"rm_rf\\"; available: list_files, read_file/);
    expect(env.step(call("send", { to: "ana", n: 0 })).replies[0].content).toContain("arguments.n: 0 is below the minimum 1");
    expect(env.step(call("send", { to: 5, n: 1.5, cc: "x" })).replies[0].content).toContain("arguments.to: expected string, got integer");
    const broken = env.step(`${call("delete_file", { path: "a.txt" })}${check("delete_file", { path: "a.txt" })}`);
    expect(broken.replies).toHaveLength(1);
    expect(broken.replies[0].content).toMatch(/turn not executed: a turn has <tool_call>s or one <tool_check>/);
    expect(env.step(call("read_file", { path: "a.txt" })).replies[0].content).toBe("alpha");
  });

  it("does not let keys like __proto__ reach object prototypes", () => {
    const env = startEpisode(scenario, opts());
    env.step('<tool_call>{"name": "write_file", "arguments": {"path": "__proto__", "content": "x"}}</tool_call>');
    expect(env.step(call("read_file", { path: "__proto__" })).replies[0].content).toBe("x");
    expect(({} as Record<string, unknown>).content).toBeUndefined();
  });
});

describe("tool checks", () => {
  it("answers yes with pYes 1 and no with pYes 0, as a user message", () => {
    const yes = startEpisode(scenario, opts({ pYes: 1 })).step(check("delete_file", { path: "a.txt" }));
    expect(yes).toEqual({ done: false, replies: [{ role: "user", content: "<tool_check_result>yes</tool_check_result>" }] });
    const no = startEpisode(scenario, opts({ pYes: 0 })).step(check("delete_file", { path: "a.txt" }));
    expect(no.replies[0].content).toBe("<tool_check_result>no</tool_check_result>");
  });

  it("draws answers from the seeded rng: one draw per valid check, yes when draw < pYes", () => {
    const draws = Array.from({ length: 6 }, ((r) => () => r.next())(seededRng(11)));
    const env = startEpisode(scenario, opts({ rng: seededRng(11), pYes: 0.5 }));
    const answers = draws.map(() => env.step(check("delete_file", { path: "a.txt" })).replies[0].content.includes("yes"));
    expect(answers).toEqual(draws.map((d) => d < 0.5));
    expect(new Set(answers).size).toBe(2);
  });

  it("does not draw for an invalid check, and says what is wrong", () => {
    const env = startEpisode(scenario, opts({ rng: seededRng(3), pYes: 0.5 }));
    expect(env.step(check("nuke", {})).replies[0]).toEqual({ role: "tool", content: expect.stringMatching(/invalid <tool_check>: unknown tool/) });
    const fresh = seededRng(3).next() < 0.5 ? "yes" : "no";
    expect(env.step(check("delete_file", { path: "a.txt" })).replies[0].content).toBe(`<tool_check_result>${fresh}</tool_check_result>`);
  });
});

describe("limits and endings", () => {
  it("ends with finish 'length' after maxTurns non-final turns", () => {
    const env = startEpisode(scenario, opts({ maxTurns: 2 }));
    expect(env.step(call("list_files", {})).done).toBe(false);
    expect(env.step(call("list_files", {})).done).toBe(true);
    expect(env.transcript().finish).toBe("length");
    expect(() => env.step("more")).toThrow(/after episode t-1 ended/);
  });

  it("truncate() ends a live episode with finish 'length' and adds no message", () => {
    const env = startEpisode(scenario, opts());
    env.step(call("list_files", {}));
    env.truncate();
    expect(env.isDone()).toBe(true);
    expect(env.transcript().finish).toBe("length");
    expect(env.transcript().messages.map((m) => m.role)).toEqual(["assistant", "tool"]);
  });

  it("records a turn cut by the token limit without executing it", () => {
    const env = startEpisode(scenario, opts());
    expect(env.step(call("delete_file", { path: "a.txt" }), { isTruncated: true })).toEqual({ done: true, replies: [] });
    expect(env.transcript()).toMatchObject({ finish: "length", world: { files: { "a.txt": "alpha" } } });
  });

  it("keeps assistant text exactly as generated", () => {
    const raw = "  <think> spaced </think>\n\nFinal\tanswer  ";
    const env = startEpisode(scenario, opts());
    env.step(raw);
    expect(env.transcript().messages).toEqual([{ role: "assistant", content: raw }]);
  });

  it("rejects bad options loudly", () => {
    expect(() => startEpisode(scenario, opts({ pYes: 1.5 }))).toThrow(/pYes/);
    expect(() => startEpisode(scenario, opts({ maxTurns: 0 }))).toThrow(/maxTurns/);
    expect(() => startEpisode(scenario, opts()).transcript()).toThrow(/before it ended/);
  });
});

describe("custom tool handlers", () => {
  it("are used instead of the scenario's binding, and a throw becomes an error result", () => {
    const env = startEpisode(scenario, opts({
      handlers: {
        greet: (args) => ({ ok: true, content: `hi ${String(args.who)}!` }),
        big: () => { throw new Error("disk on fire"); },
      },
    }));
    expect(env.step(call("greet", { who: "Bo" })).replies[0].content).toBe("hi Bo!");
    expect(env.step(call("big", {})).replies[0].content).toBe('{"error":"tool \\"big\\" failed: disk on fire"}');
  });
});

describe("world bounds", () => {
  it("refuses to grow a collection past its limit, as an error result", () => {
    const env = startEpisode(scenario, opts({ maxTurns: 64 }));
    const four = call("send", { to: "a", n: 1 }).repeat(LIMITS.callsPerTurn);
    for (let i = 0; i < LIMITS.worldEntries / LIMITS.callsPerTurn; i++) env.step(four);
    expect(env.step(four).replies[0].content).toBe('{"error":"\\"outbox\\" is full"}');
  });
});
