/**
 * Chat rendering with the model folder's own Jinja `chat_template`, as transformers'
 * `apply_chat_template` does it (engine: @huggingface/jinja), plus the "turn suffix" that a
 * multi-turn sampler appends after each assistant turn it sampled. Text only: token ids live in
 * `tokenizer.ts`. Does not parse tool calls out of text and does not know any tool.
 * Reference: the `chat_template` of Qwen3 / Qwen2.5 `tokenizer_config.json`.
 */
import { Template } from "@huggingface/jinja";
import { assert } from "../util/assert.ts";

/** One tool in the template's `tools` list (OpenAI / HF function-calling layout). */
export type ToolSpec = {
  type: "function";
  function: { name: string; description?: string; parameters: Readonly<Record<string, unknown>> };
};

/** A structured tool call on an assistant message; `arguments` as an object or a JSON string. */
export type ToolCallSpec = {
  type?: "function";
  function: { name: string; arguments: Readonly<Record<string, unknown>> | string };
};

export type ChatMessage = {
  role: "system" | "user" | "assistant" | "tool";
  /** Raw text; an assistant's may hold `<think>…</think>` and `<tool_call>…</tool_call>` itself. */
  content: string;
  tool_calls?: readonly ToolCallSpec[];
};

export type RenderOptions = {
  tools?: readonly ToolSpec[];
  /** Append the header of a new assistant turn (`<|im_start|>assistant\n` for Qwen). */
  addGenerationPrompt?: boolean;
  /** Qwen3: `false` pre-fills an empty `<think>\n\n</think>\n\n`; undefined leaves it to the template. */
  enableThinking?: boolean;
};

export type RenderChat = (messages: readonly ChatMessage[], opts?: RenderOptions) => string;

const ROLES = new Set(["system", "user", "assistant", "tool"]);

/**
 * Compiles `source` once. `specialTokens` (bos_token, eos_token, …) are passed to the template
 * as transformers does; `where` names the template's file in error messages.
 * @throws Error naming `where` when the template does not parse or fails to render.
 */
export function compileChatTemplate(
  source: string,
  specialTokens: Readonly<Record<string, string>>,
  where: string,
): RenderChat {
  let template: Template;
  try {
    template = new Template(source);
  } catch (cause) {
    throw new Error(`chat template in ${where} does not parse: ${(cause as Error).message}`, { cause });
  }
  return (messages, opts = {}) => {
    for (const [i, m] of messages.entries())
      assert(ROLES.has(m.role) && typeof m.content === "string", () => `messages[${i}]: bad role or content`);
    const context: Record<string, unknown> = {
      ...specialTokens,
      // JSON round trip: plain data only, and keys set to `undefined` vanish as they would in
      // Python instead of rendering as `null` through `tojson`.
      messages: plainJson(messages),
      add_generation_prompt: opts.addGenerationPrompt ?? false,
    };
    // Python Jinja treats an empty list as false; pass no list at all so every engine agrees.
    if (opts.tools !== undefined && opts.tools.length > 0) context.tools = plainJson(opts.tools);
    if (opts.enableThinking !== undefined) context.enable_thinking = opts.enableThinking;
    try {
      return template.render(context);
    } catch (cause) {
      throw new Error(`chat template in ${where} failed to render: ${(cause as Error).message}`, { cause });
    }
  };
}

// Stands in for an assistant turn's content so the text after it can be cut out. Contains no
// `</think>` (which the Qwen3 template would split on) and nothing a template would escape.
const TURN_SENTINEL = "\u0000trirl-assistant-turn\u0000";

/**
 * The text the template puts after an assistant turn's content when `next` (tool / user
 * messages) follow it: the turn end, the next messages and, by default, the header of a new
 * assistant turn. For Qwen and one tool result:
 * `<|im_end|>\n<|im_start|>user\n<tool_response>\n…\n</tool_response><|im_end|>\n<|im_start|>assistant\n`.
 * With `next = []` and `addGenerationPrompt: false` it is just the turn end (`<|im_end|>\n`).
 *
 * Invariant (tested on a 3-turn tool conversation in test/model/chat-template.test.ts):
 *   renderChat(prompt, { addGenerationPrompt: true }) + a1 + renderTurnSuffix(next1) + a2 + …
 *     + aN + renderTurnSuffix([], { addGenerationPrompt: false })
 *   === renderChat([...prompt, assistant a1, ...next1, assistant a2, …, assistant aN])
 * whenever each sampled text ai is what the template itself would print for that assistant
 * message. For Qwen3 that means `<think>\nR\n</think>\n\nC` with a non-empty R; a later user
 * query also makes the template drop the thinking of earlier turns. Where the two differ, the
 * sampler's own stream is the truth for training; the full render is for display and scoring.
 */
export function renderTurnSuffix(
  chat: { renderChat: RenderChat },
  next: readonly ChatMessage[],
  opts: Omit<RenderOptions, "tools"> = {},
): string {
  for (const [i, m] of next.entries())
    assert(m.role !== "assistant", `renderTurnSuffix: next[${i}] is an assistant message; sample it instead`);
  const text = chat.renderChat([{ role: "assistant", content: TURN_SENTINEL }, ...next], {
    addGenerationPrompt: opts.addGenerationPrompt ?? true,
    enableThinking: opts.enableThinking,
  });
  const at = text.indexOf(TURN_SENTINEL);
  assert(at >= 0 && text.indexOf(TURN_SENTINEL, at + 1) < 0, "chat template must print assistant content verbatim, once");
  return text.slice(at + TURN_SENTINEL.length);
}

function plainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
