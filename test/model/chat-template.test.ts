// Qwen3 chat rendering, compared with strings derived by hand from reading the chat_template in
// the shipped tokenizer_config.json, and the multi-turn sampler invariant of renderTurnSuffix.
import { beforeAll, describe, expect, it } from "vitest";
import {
  bundledQwen3TokenizerDir,
  encodeChatPrompt,
  encodeTurnSuffix,
  loadTokenizer,
  renderTurnSuffix,
  type ChatMessage,
  type Tokenizer,
  type ToolSpec,
} from "../../src/model/tokenizer.ts";

let tok: Tokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(bundledQwen3TokenizerDir());
});

const IM_END = 151645;
const weather: ToolSpec = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
// Python's json.dumps layout (", " and ": "), as the template's `tojson` prints it.
const WEATHER_JSON =
  '{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", ' +
  '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}';
const SYSTEM_WITH_TOOLS =
  "<|im_start|>system\nYou are a careful agent.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
  WEATHER_JSON +
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';

const system: ChatMessage = { role: "system", content: "You are a careful agent." };
const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });
const tool = (content: string): ChatMessage => ({ role: "tool", content });

describe("renderChat with the Qwen3 template", () => {
  it("renders a tool conversation: tools block, structured call, tool response, final answer", () => {
    const messages: ChatMessage[] = [
      system,
      user("Weather in Paris?"),
      { role: "assistant", content: "", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris" } } }] },
      tool('{"temp_c": 21}'),
      assistant("It is 21 °C in Paris."),
    ];
    expect(tok.renderChat(messages, { tools: [weather] })).toBe(
      SYSTEM_WITH_TOOLS +
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n" +
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n{"temp_c": 21}\n</tool_response><|im_end|>\n' +
        // the last assistant turn after the query always gets a (here empty) think block
        "<|im_start|>assistant\n<think>\n\n</think>\n\nIt is 21 °C in Paris.<|im_end|>\n",
    );
  });

  it("opens the assistant turn, pre-filling an empty think block when thinking is off", () => {
    const head = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
    expect(tok.renderChat([user("hi")], { addGenerationPrompt: true })).toBe(head);
    expect(tok.renderChat([user("hi")], { addGenerationPrompt: true, enableThinking: true })).toBe(head);
    expect(tok.renderChat([user("hi")], { addGenerationPrompt: true, enableThinking: false })).toBe(
      `${head}<think>\n\n</think>\n\n`,
    );
    expect(tok.renderChat([system, user("hi")], { tools: [] })).toBe(
      "<|im_start|>system\nYou are a careful agent.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n",
    );
  });

  it("joins content and parallel calls with newlines, string arguments verbatim, tool results in one user turn", () => {
    const messages: ChatMessage[] = [
      user("Paris and Lyon?"),
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          { function: { name: "get_weather", arguments: { city: "Paris" } } },
          { function: { name: "get_weather", arguments: '{"city":"Lyon"}' } },
        ],
      },
      tool("A"),
      tool("B"),
    ];
    expect(tok.renderChat(messages)).toBe(
      "<|im_start|>user\nParis and Lyon?<|im_end|>\n" +
        "<|im_start|>assistant\nChecking both.\n" +
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
        '<tool_call>\n{"name": "get_weather", "arguments": {"city":"Lyon"}}\n</tool_call><|im_end|>\n' +
        "<|im_start|>user\n<tool_response>\nA\n</tool_response>\n<tool_response>\nB\n</tool_response><|im_end|>\n",
    );
  });

  it("keeps raw tool-call text, and drops the thinking of turns before the last user query", () => {
    const call = '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>';
    const messages = [
      user("q1"),
      assistant("<think>\nr1\n</think>\n\na1"),
      user("q2"),
      assistant(`<think>\nr2\n</think>\n\n${call}`),
      tool("x"),
    ];
    expect(tok.renderChat(messages, { addGenerationPrompt: true })).toBe(
      "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n" +
        "<|im_start|>user\nq2<|im_end|>\n" +
        `<|im_start|>assistant\n<think>\nr2\n</think>\n\n${call}<|im_end|>\n` +
        "<|im_start|>user\n<tool_response>\nx\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
    );
  });
});

describe("renderTurnSuffix", () => {
  it("closes the turn, adds a tool response and opens the next assistant turn", () => {
    expect(renderTurnSuffix(tok, [tool('{"ok": true}')])).toBe(
      '<|im_end|>\n<|im_start|>user\n<tool_response>\n{"ok": true}\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it("renders a user turn with thinking off, and a bare turn end", () => {
    expect(renderTurnSuffix(tok, [user("<tool_check_result>yes</tool_check_result>")], { enableThinking: false })).toBe(
      "<|im_end|>\n<|im_start|>user\n<tool_check_result>yes</tool_check_result><|im_end|>\n" +
        "<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
    expect(renderTurnSuffix(tok, [], { addGenerationPrompt: false })).toBe("<|im_end|>\n");
  });

  it("refuses an assistant message among the next messages", () => {
    expect(() => renderTurnSuffix(tok, [assistant("x")])).toThrow(/next\[0\] is an assistant message/);
  });
});

describe("sampler stream equals the full render (3-turn tool conversation)", () => {
  const prompt = [system, user("Weather in Paris and in Lyon?")];
  const call = (city: string) => `<tool_call>\n{"name": "get_weather", "arguments": {"city": "${city}"}}\n</tool_call>`;
  // What the policy samples per turn, in the template's own form (see renderTurnSuffix).
  const sampled = [
    `<think>\nFirst Paris.\n</think>\n\n${call("Paris")}`,
    `<think>\nNow Lyon.\n</think>\n\n${call("Lyon")}`,
    "<think>\nBoth known.\n</think>\n\nParis: 21 °C, Lyon: 19 °C.",
  ];
  const results = [[tool('{"temp_c": 21}')], [tool('{"temp_c": 19}')]];
  const full = () =>
    tok.renderChat(
      [...prompt, assistant(sampled[0]), ...results[0], assistant(sampled[1]), ...results[1], assistant(sampled[2])],
      { tools: [weather] },
    );

  it("as text", () => {
    let stream = tok.renderChat(prompt, { tools: [weather], addGenerationPrompt: true });
    stream += sampled[0] + renderTurnSuffix(tok, results[0]);
    stream += sampled[1] + renderTurnSuffix(tok, results[1]);
    stream += sampled[2] + renderTurnSuffix(tok, [], { addGenerationPrompt: false });
    expect(stream).toBe(full());
  });

  it("as token ids, the policy ending each turn with <|im_end|>", () => {
    // Every join falls on an added token (<think>, <|im_end|>), so BPE cannot merge across it.
    const ids = encodeChatPrompt(tok, prompt, { tools: [weather] });
    for (const [turn, text] of sampled.entries()) {
      const turnIds = tok.encode(`${text}<|im_end|>`);
      ids.push(...turnIds);
      const next = results[turn] ?? [];
      ids.push(...encodeTurnSuffix(tok, next, { addGenerationPrompt: next.length > 0, lastSampledId: turnIds.at(-1) }));
    }
    expect(ids).toEqual(tok.encode(full()));
  });

  it("repeats the turn end when the policy stopped on another id", () => {
    const ids = encodeTurnSuffix(tok, results[0], { lastSampledId: tok.tokenToId("<|endoftext|>") });
    expect(ids[0]).toBe(IM_END);
    expect(encodeTurnSuffix(tok, results[0], { lastSampledId: IM_END })[0]).not.toBe(IM_END);
  });

  it("differs with thinking off: a full render drops the empty think block of earlier turns", () => {
    const off = { enableThinking: false };
    const stream =
      tok.renderChat([user("Paris?")], { ...off, addGenerationPrompt: true }) +
      call("Paris") + renderTurnSuffix(tok, results[0], off) +
      "21 °C." + renderTurnSuffix(tok, [], { addGenerationPrompt: false });
    const rendered = tok.renderChat([user("Paris?"), assistant(call("Paris")), ...results[0], assistant("21 °C.")]);
    const head = "<|im_start|>assistant\n";
    expect(rendered.replace(head + call("Paris"), `${head}<think>\n\n</think>\n\n${call("Paris")}`)).toBe(stream);
    expect(rendered).not.toBe(stream);
  });
});
