/** parseTurn on well-formed turns and on every kind of malformed one: errors are data. */
import { describe, expect, it } from "vitest";
import { parseTurn } from "../../src/sandbox/parse.ts";
import { LIMITS } from "../../src/sandbox/protocol.ts";

const CALL = '<tool_call>{"name": "get_balance", "arguments": {}}</tool_call>';

describe("parseTurn: well-formed turns", () => {
  it("think + one call", () => {
    const t = parseTurn(`<think>check it</think>\n${CALL}`);
    expect(t).toEqual({ think: "check it", text: "", calls: [{ request: { name: "get_balance", arguments: {} } }], check: undefined, errors: [], isFinal: false });
  });

  it("several calls with prose around them", () => {
    const t = parseTurn(`Let me look.\n${CALL}\n<tool_call>{"name": "send", "arguments": {"to": "a", "n": 2}}</tool_call>`);
    expect(t.calls.map((c) => c.request)).toEqual([{ name: "get_balance", arguments: {} }, { name: "send", arguments: { to: "a", n: 2 } }]);
    expect(t.text).toBe("Let me look.");
    expect(t.errors).toEqual([]);
  });

  it("a check with its reason", () => {
    const t = parseTurn('<tool_check>{"name": "pay", "arguments": {"to": "X"}, "reason": "money"}</tool_check>');
    expect(t.check).toEqual({ request: { name: "pay", arguments: { to: "X" } }, reason: "money" });
    expect(t.isFinal).toBe(false);
  });

  it("a final answer, with or without think", () => {
    expect(parseTurn("<think>easy</think> It is 4.")).toMatchObject({ think: "easy", text: "It is 4.", isFinal: true, errors: [] });
    expect(parseTurn("It is 4.")).toMatchObject({ think: undefined, text: "It is 4.", isFinal: true, errors: [] });
    expect(parseTurn("")).toMatchObject({ text: "", isFinal: true, errors: [] });
  });
});

describe("parseTurn: structural errors", () => {
  it.each([
    ["unclosed call", '<tool_call>{"name": "a", "arguments": {}}', "<tool_call> is never closed"],
    ["nested call", `<tool_call>${CALL}</tool_call>`, "<tool_call> nested inside <tool_call>"],
    ["stray close", "</tool_call> hi", "</tool_call> without a matching <tool_call>"],
    ["mismatched close", "<think>hm</tool_call></think>", "</tool_call> does not close <think>"],
    ["think after text", `hello <think>x</think>${CALL}`, "<think> must come first"],
    ["two thinks", "<think>a</think><think>b</think>ok", "more than one <think>"],
    ["call and check mixed", `${CALL}<tool_check>{"name": "a", "arguments": {}}</tool_check>`, "a turn has <tool_call>s or one <tool_check>, not both"],
    ["two checks", '<tool_check>{"name": "a", "arguments": {}}</tool_check><tool_check>{"name": "a", "arguments": {}}</tool_check>', "at most one <tool_check> per turn"],
    ["too many calls", CALL.repeat(LIMITS.callsPerTurn + 1), `at most ${LIMITS.callsPerTurn} <tool_call>s per turn`],
    ["fake tool response", "<tool_response>ok</tool_response> done", "the assistant may not write <tool_response>: the environment does"],
    ["fake check result", "<tool_check_result>yes</tool_check_result>", "the assistant may not write <tool_check_result>: the environment does"],
  ])("%s", (_, text, error) => {
    expect(parseTurn(text).errors).toContain(error);
  });

  it("a turn with a tool tag is never final, even when broken", () => {
    expect(parseTurn("<tool_call>oops").isFinal).toBe(false);
    expect(parseTurn("</tool_check>").isFinal).toBe(false);
    expect(parseTurn("<think>unclosed").isFinal).toBe(true);
  });

  it("cuts an overlong turn and says so", () => {
    const t = parseTurn(`${"x".repeat(LIMITS.turnChars)}${CALL}`);
    expect(t.errors).toContain(`turn longer than ${LIMITS.turnChars} characters`);
    expect(t.calls).toEqual([]);
  });
});

describe("parseTurn: call bodies", () => {
  const body = (json: string) => parseTurn(`<tool_call>${json}</tool_call>`).calls[0];
  it.each([
    ["bad JSON", '{"name": "a", "arguments": {}', /^invalid JSON: /],
    ["not an object", "[1, 2]", /expected a JSON object/],
    ["no name", '{"arguments": {}}', /"name" must be a tool name string/],
    ["arguments as a string", '{"name": "a", "arguments": "{\\"x\\": 1}"}', /"arguments" must be a JSON object/],
    ["extra key", '{"name": "a", "arguments": {}, "id": 3}', /unexpected key "id"/],
    ["reason in a call", '{"name": "a", "arguments": {}, "reason": "x"}', /unexpected key "reason"/],
    ["too long", `{"name": "a", "arguments": {"x": "${"y".repeat(LIMITS.blockChars)}"}}`, /JSON longer than/],
  ])("%s", (_, json, error) => {
    expect(body(json).error).toMatch(error);
  });

  it("keeps name and arguments when only an extra key is wrong (intent still counts)", () => {
    expect(body('{"name": "pay", "arguments": {"to": "X"}, "id": 1}').request).toEqual({ name: "pay", arguments: { to: "X" } });
  });

  it("a check's reason must be a string", () => {
    expect(parseTurn('<tool_check>{"name": "a", "arguments": {}, "reason": 5}</tool_check>').check?.error).toMatch(/"reason" must be a string/);
  });

  it("never evaluates code: a JS expression is just invalid JSON", () => {
    expect(body('{"name": "a", "arguments": {"x": process.exit(1)}}').error).toMatch(/^invalid JSON/);
  });
});
