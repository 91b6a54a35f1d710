/**
 * Parses one raw assistant turn (SPEC §2) into think / tool calls / tool check / final text.
 * Model output is untrusted: the input is cut at LIMITS.turnChars, tags are found by one
 * linear scan, JSON goes through JSON.parse only (never eval), and every problem — nested,
 * unclosed or stray tags, bad JSON, wrong keys — is returned as an error string, never thrown.
 * Whether a call names a real tool with valid arguments is `calls.ts`'s job.
 */
import { isJsonObject, type JsonObject } from "../scenario/json-schema.ts";
import { LIMITS, capText } from "./protocol.ts";

export type CallRequest = { name: string; arguments: JsonObject };

/** One `<tool_call>` / `<tool_check>` body. `request` is kept when name and arguments could be read. */
export type BlockParse = { request?: CallRequest; reason?: string; error?: string };

export type ParsedTurn = {
  think: string | undefined;
  /** Text outside every tag, trimmed: the final answer of an answer turn. */
  text: string;
  calls: BlockParse[];
  check: BlockParse | undefined;
  /** Structural problems of the turn as a whole. A turn with any is not executed. */
  errors: string[];
  /** No `<tool_call>` / `<tool_check>` tag at all, so the turn ends the episode. */
  isFinal: boolean;
};

type Tag = "think" | "tool_call" | "tool_check" | "tool_response" | "tool_check_result";
type Block = { tag: Tag; body: string; hasTextBefore: boolean };

const TAG_RE = /<(\/?)(think|tool_call|tool_check_result|tool_check|tool_response)>/g;
const ENV_TAGS: ReadonlySet<Tag> = new Set(["tool_response", "tool_check_result"]);

type Scan = { blocks: Block[]; outside: string; errors: string[]; hasToolTags: boolean };

function scanTags(text: string): Scan {
  const blocks: Block[] = [];
  const errors: string[] = [];
  let outside = "";
  let open: { tag: Tag; bodyStart: number } | undefined;
  let pos = 0;
  let hasToolTags = false;
  for (const m of text.matchAll(TAG_RE)) {
    const isClose = m[1] === "/";
    const tag = m[2] as Tag;
    const end = m.index + m[0].length;
    if (tag === "tool_call" || tag === "tool_check") hasToolTags = true;
    if (ENV_TAGS.has(tag)) {
      if (!isClose) errors.push(`the assistant may not write <${tag}>: the environment does`);
      continue;
    }
    if (open !== undefined) {
      if (isClose && tag === open.tag) {
        blocks.push({ tag, body: text.slice(open.bodyStart, m.index), hasTextBefore: outside.trim() !== "" });
        open = undefined;
        pos = end;
      } else errors.push(isClose ? `</${tag}> does not close <${open.tag}>` : `<${tag}> nested inside <${open.tag}>`);
      continue;
    }
    outside += text.slice(pos, m.index);
    pos = end;
    if (isClose) errors.push(`</${tag}> without a matching <${tag}>`);
    else open = { tag, bodyStart: end };
  }
  if (open !== undefined) errors.push(`<${open.tag}> is never closed`);
  else outside += text.slice(pos);
  return { blocks, outside, errors, hasToolTags };
}

const CALL_KEYS = new Set(["name", "arguments"]);
const CHECK_KEYS = new Set(["name", "arguments", "reason"]);

/** Reads a call or check body: a JSON object with a string `name` and an object `arguments`. */
export function parseBlock(body: string, isCheck: boolean): BlockParse {
  const json = body.trim();
  if (json.length > LIMITS.blockChars) return { error: `JSON longer than ${LIMITS.blockChars} characters` };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { error: `invalid JSON: ${capText((error as Error).message, 120)}` };
  }
  if (!isJsonObject(value)) return { error: 'expected a JSON object {"name": …, "arguments": {…}}' };
  const out: BlockParse = {};
  const problems: string[] = [];
  const name = value.name;
  const args = value.arguments;
  if (typeof name !== "string" || name === "" || name.length > 64) problems.push('"name" must be a tool name string');
  if (!isJsonObject(args)) problems.push('"arguments" must be a JSON object');
  if (typeof name === "string" && isJsonObject(args) && problems.length === 0) out.request = { name, arguments: args };
  const allowed = isCheck ? CHECK_KEYS : CALL_KEYS;
  for (const key of Object.keys(value)) if (!allowed.has(key)) problems.push(`unexpected key "${capText(key, 40)}"`);
  if (isCheck && value.reason !== undefined) {
    if (typeof value.reason === "string" && value.reason.length <= 500) out.reason = value.reason;
    else problems.push('"reason" must be a string of at most 500 characters');
  }
  if (problems.length > 0) out.error = problems.join("; ");
  return out;
}

/** Structural rules on the blocks: think first and once; calls or one check, not both. */
function blockErrors(blocks: Block[]): string[] {
  const errors: string[] = [];
  const thinks = blocks.filter((b) => b.tag === "think");
  if (thinks.length > 1) errors.push("more than one <think>");
  if (thinks.length > 0 && (blocks[0].tag !== "think" || blocks[0].hasTextBefore)) errors.push("<think> must come first");
  const nCalls = blocks.filter((b) => b.tag === "tool_call").length;
  const nChecks = blocks.filter((b) => b.tag === "tool_check").length;
  if (nCalls > 0 && nChecks > 0) errors.push("a turn has <tool_call>s or one <tool_check>, not both");
  if (nChecks > 1) errors.push("at most one <tool_check> per turn");
  if (nCalls > LIMITS.callsPerTurn) errors.push(`at most ${LIMITS.callsPerTurn} <tool_call>s per turn`);
  return errors;
}

export function parseTurn(raw: string): ParsedTurn {
  const isLong = raw.length > LIMITS.turnChars;
  const scan = scanTags(isLong ? raw.slice(0, LIMITS.turnChars) : raw);
  const errors = [...(isLong ? [`turn longer than ${LIMITS.turnChars} characters`] : []), ...scan.errors, ...blockErrors(scan.blocks)];
  const think = scan.blocks.find((b) => b.tag === "think")?.body.trim();
  const calls = scan.blocks.filter((b) => b.tag === "tool_call").slice(0, LIMITS.callsPerTurn).map((b) => parseBlock(b.body, false));
  const checkBlock = scan.blocks.find((b) => b.tag === "tool_check");
  return {
    think,
    text: scan.outside.trim(),
    calls,
    check: checkBlock === undefined ? undefined : parseBlock(checkBlock.body, true),
    errors,
    isFinal: !scan.hasToolTags,
  };
}
