/**
 * The scenario format (SPEC §3): one strict zod schema per piece, each type named after its
 * schema. Unknown keys are errors; cross-field rules (tool names unique, expected calls name
 * offered tools, world bindings point at existing collections) live in `superRefine` with a
 * message that says why. Loading files is `jsonl.ts`; the built-in corpus is `corpus/`.
 */
import { z } from "zod";
import { JsonValue, ParamSchema } from "./json-schema.ts";

/** The one taxonomy for both channels (SPEC §1): user prompts and tools share these labels. */
export const Label = z.enum(["benign", "malicious", "sensitive"]);
export type Label = z.infer<typeof Label>;
export const LABELS: readonly Label[] = Label.options;

export const Split = z.enum(["train", "validation", "test"]);
export type Split = z.infer<typeof Split>;
export const SPLITS: readonly Split[] = Split.options;

export const Decision = z.enum(["execute", "refuse", "verify"]);
export type Decision = z.infer<typeof Decision>;

export const MAX_MESSAGE_CHARS = 8_000;

export const Message = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().max(MAX_MESSAGE_CHARS),
});
export type Message = z.infer<typeof Message>;

const ToolName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "a tool name is a letter or _ then up to 63 of [A-Za-z0-9_.-]");

/**
 * Binds a tool to a collection of the scenario's `world` instead of a fixed `returns`:
 * list (keys, or `summary` fields per entry), read / write / delete (the entry named by the
 * argument `key`; write stores the argument `value`), append (pushes the call's arguments).
 */
export const WorldBinding = z.strictObject({
  op: z.enum(["list", "read", "write", "delete", "append"]),
  collection: z.string().min(1).max(64),
  key: z.string().min(1).max(64).optional(),
  value: z.string().min(1).max(64).optional(),
  summary: z.array(z.string().max(64)).max(8).optional(),
});
export type WorldBinding = z.infer<typeof WorldBinding>;

export const ToolSpec = z
  .strictObject({
    name: ToolName,
    class: Label,
    description: z.string().min(1).max(500),
    parameters: ParamSchema,
    returns: JsonValue.optional(),
    world: WorldBinding.optional(),
  })
  .superRefine((tool, ctx) => {
    if ((tool.returns === undefined) === (tool.world === undefined))
      ctx.addIssue({ code: "custom", message: "a tool needs exactly one of `returns` (fixed output) or `world` (stateful binding)" });
    if (tool.parameters.type !== "object")
      ctx.addIssue({ code: "custom", path: ["parameters", "type"], message: 'tool parameters must be a JSON Schema with type "object"' });
    const op = tool.world?.op;
    if ((op === "read" || op === "write" || op === "delete") && tool.world?.key === undefined)
      ctx.addIssue({ code: "custom", path: ["world", "key"], message: `op "${op}" needs \`key\`: the argument that names the entry` });
    if (op === "write" && tool.world?.value === undefined)
      ctx.addIssue({ code: "custom", path: ["world", "value"], message: 'op "write" needs `value`: the argument whose value is stored' });
  });
export type ToolSpec = z.infer<typeof ToolSpec>;

/** A call to look for. Without `arguments` any call of the tool matches (see `match.ts`). */
export const CallPattern = z.strictObject({
  name: ToolName,
  arguments: z.record(z.string(), JsonValue).optional(),
});
export type CallPattern = z.infer<typeof CallPattern>;

export const Expected = z.strictObject({
  decision: Decision,
  required_calls: z.array(CallPattern).max(16).default([]),
  forbidden_calls: z.array(CallPattern).max(16).default([]),
  verify_before: z.array(ToolName).max(16).default([]),
});
export type Expected = z.infer<typeof Expected>;

/** Named collections: a map (key → value) for read/write/delete, or an array log for append. */
export const World = z.record(z.string(), z.union([z.array(JsonValue), z.record(z.string(), JsonValue)]));
export type World = z.infer<typeof World>;

const ScenarioShape = z.strictObject({
  id: z.string().min(1).max(100),
  domain: z.string().min(1).max(64).optional(),
  split: Split.optional(),
  user: Label,
  messages: z.array(Message).min(1).max(16),
  tools: z.array(ToolSpec).min(1).max(16),
  world: World.optional(),
  expected: Expected,
});
export const Scenario = ScenarioShape.superRefine(checkScenario);
export type Scenario = z.infer<typeof Scenario>;

type Ctx = z.RefinementCtx;

function checkScenario(s: z.output<typeof ScenarioShape>, ctx: Ctx): void {
  const tools = new Map(s.tools.map((t) => [t.name, t]));
  if (tools.size !== s.tools.length) ctx.addIssue({ code: "custom", path: ["tools"], message: "tool names must be unique" });
  const last = s.messages[s.messages.length - 1];
  if (last.role !== "user") ctx.addIssue({ code: "custom", path: ["messages"], message: "the last scenario message must be the user's request" });
  s.messages.forEach((m, i) => {
    if (m.role === "system" || m.role === "tool")
      ctx.addIssue({ code: "custom", path: ["messages", i, "role"], message: "scenario messages are user/assistant turns; the sandbox adds the system" });
  });
  const e = s.expected;
  e.required_calls.forEach((c, i) => checkPattern(c, tools, ["expected", "required_calls", i], ctx));
  e.verify_before.forEach((name, i) => {
    const message = `"${name}" is not one of the scenario's tools`;
    if (!tools.has(name)) ctx.addIssue({ code: "custom", path: ["expected", "verify_before", i], message });
  });
  if (e.decision === "verify" && e.verify_before.length === 0)
    ctx.addIssue({ code: "custom", path: ["expected", "verify_before"], message: 'decision "verify" needs at least one tool in verify_before' });
  if (e.decision === "refuse" && e.required_calls.length > 0)
    ctx.addIssue({ code: "custom", path: ["expected", "required_calls"], message: 'decision "refuse" cannot require calls' });
  s.tools.forEach((t, i) => checkBinding(t, s.world, ["tools", i, "world"], ctx));
}

function checkPattern(c: CallPattern, tools: Map<string, ToolSpec>, path: (string | number)[], ctx: Ctx): void {
  const tool = tools.get(c.name);
  if (tool === undefined) {
    ctx.addIssue({ code: "custom", path: [...path, "name"], message: `"${c.name}" is not one of the scenario's tools` });
    return;
  }
  const props = tool.parameters.properties;
  for (const key of Object.keys(c.arguments ?? {})) {
    if (props !== undefined && !Object.hasOwn(props, key))
      ctx.addIssue({ code: "custom", path: [...path, "arguments", key], message: `"${c.name}" has no parameter "${key}"` });
  }
}

function checkBinding(tool: ToolSpec, world: World | undefined, path: (string | number)[], ctx: Ctx): void {
  const b = tool.world;
  if (b === undefined) return;
  const collection = world !== undefined && Object.hasOwn(world, b.collection) ? world[b.collection] : undefined;
  if (collection === undefined) {
    ctx.addIssue({ code: "custom", path: [...path, "collection"], message: `the scenario's world has no collection "${b.collection}"` });
    return;
  }
  const isLog = Array.isArray(collection);
  if (b.op === "append" && !isLog) ctx.addIssue({ code: "custom", path, message: `op "append" needs "${b.collection}" to be an array` });
  if ((b.op === "read" || b.op === "write" || b.op === "delete") && isLog)
    ctx.addIssue({ code: "custom", path, message: `op "${b.op}" needs "${b.collection}" to be an object (key → value)` });
}
