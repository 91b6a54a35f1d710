/**
 * BFCL data and the native function-calling path: question files (JSON Lines despite `.json`) and
 * `possible_answer/` read with the int/float-keeping parser, aligned by index and id; the prompt is
 * the question's first turn with the function docs as the chat template's tools, as BFCL's Qwen FC
 * handler sends them (the docs themselves, each description with a language hint; Java / JS
 * parameters declared as strings holding source code); decoding reads every
 * `<tool_call>{"name": …, "arguments": {…}}</tool_call>` block as that handler does (a block
 * that is not JSON is skipped; any other malformed block fails the whole decode).
 * Deviation: whitespace around a block's JSON is optional here (the handler wants newlines).
 */
import path from "node:path";
import type { ChatMessage } from "../model/tokenizer.ts";
import type { Call, ExpectedCall, FunctionDoc, Language } from "./bfcl-checker.ts";
import { readLines } from "./data-files.ts";
import { isPyDict, parsePyJson, pyJsonDumps, type PyDict, type PyValue } from "./py-value.ts";

export const AST_CATEGORIES = [
  "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
  "live_simple", "live_parallel", "live_parallel_multiple",
] as const;
export const RELEVANCE_CATEGORIES = ["irrelevance", "live_irrelevance", "live_relevance"] as const;
export const BFCL_CATEGORIES = [...AST_CATEGORIES, ...RELEVANCE_CATEGORIES] as const;
export type BfclCategory = (typeof BFCL_CATEGORIES)[number];

export type BfclCase = {
  id: string;
  category: BfclCategory;
  language: Language;
  messages: ChatMessage[];
  docs: FunctionDoc[];
  /** Undefined for the relevance categories, which have no ground truth. */
  expected?: ExpectedCall[];
};
/** A case whose data could not be read: counted as invalid, never scored. */
export type BfclDataError = { id: string; category: BfclCategory; invalid: string };

export const languageOf = (category: string): Language =>
  category === "simple_java" ? "Java" : category === "simple_javascript" ? "JavaScript" : "Python";

const questionFile = (dir: string, c: BfclCategory) => path.join(dir, `BFCL_v4_${c}.json`);
const answerFile = (dir: string, c: BfclCategory) => path.join(dir, "possible_answer", `BFCL_v4_${c}.json`);

function readMessages(question: PyValue): ChatMessage[] | string {
  const turn = Array.isArray(question) ? question[0] : undefined;
  if (!Array.isArray(turn) || turn.length === 0) return "question: expected [[{role, content}, …]]";
  const messages: ChatMessage[] = [];
  for (const m of turn) {
    if (!isPyDict(m) || typeof m.content !== "string" || !["system", "user", "assistant"].includes(m.role as string)) return "question: a message is not {role, content}";
    messages.push({ role: m.role as ChatMessage["role"], content: m.content });
  }
  return messages;
}

function readDocs(functions: PyValue): FunctionDoc[] | string {
  if (!Array.isArray(functions)) return "function: expected a list of function docs";
  const docs: FunctionDoc[] = [];
  for (const f of functions) {
    const params = isPyDict(f) ? f.parameters : undefined;
    if (!isPyDict(f) || typeof f.name !== "string" || !isPyDict(params ?? null) || !isPyDict((params as PyDict).properties ?? null))
      return "function: a doc lacks name or parameters.properties";
    const required = (params as PyDict).required;
    if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === "string"))) return "function: parameters.required is not a list of names";
    docs.push(f as unknown as FunctionDoc);
  }
  return docs;
}

function readExpected(answer: PyValue): ExpectedCall[] | string {
  const truth = isPyDict(answer) ? answer.ground_truth : undefined;
  if (!Array.isArray(truth)) return "possible answer: no ground_truth list";
  const calls: ExpectedCall[] = [];
  for (const entry of truth) {
    const keys = isPyDict(entry) ? Object.keys(entry) : [];
    if (keys.length !== 1 || !isPyDict((entry as PyDict)[keys[0]])) return "possible answer: an entry is not {func_name: {param: [values]}}";
    calls.push({ name: keys[0], params: (entry as PyDict)[keys[0]] as PyDict });
  }
  return calls;
}

/** Every case of one category, in file order. @throws Error when a file cannot be read. */
export function loadCategory(dir: string, category: BfclCategory): (BfclCase | BfclDataError)[] {
  const questions = readLines(questionFile(dir, category));
  const answers = (AST_CATEGORIES as readonly string[]).includes(category) ? readLines(answerFile(dir, category)) : undefined;
  return questions.map((q, i) => {
    const fallbackId = `${category}_${i}`;
    const bad = (invalid: string): BfclDataError => ({ id: fallbackId, category, invalid: `data: ${invalid}` });
    const parsed = parsePyJson(q.text);
    if (!parsed.ok || !isPyDict(parsed.value)) return bad(`${questionFile(dir, category)} line ${q.line} is not a JSON object`);
    const entry = parsed.value;
    const id = typeof entry.id === "string" ? entry.id : fallbackId;
    const messages = readMessages(entry.question ?? null);
    const docs = readDocs(entry.function ?? null);
    if (typeof messages === "string" || typeof docs === "string") return { id, category, invalid: `data: ${typeof messages === "string" ? messages : docs}` };
    const base: BfclCase = { id, category, language: languageOf(category), messages, docs };
    if (answers === undefined) return base;
    const a = answers[i] === undefined ? undefined : parsePyJson(answers[i].text);
    if (a === undefined || !a.ok || !isPyDict(a.value) || a.value.id !== id) return { id, category, invalid: `data: no possible answer with id ${id} at line ${i + 1} of ${answerFile(dir, category)}` };
    const expected = readExpected(a.value);
    return typeof expected === "string" ? { id, category, invalid: `data: ${expected}` } : { ...base, expected };
  });
}

const LANGUAGE_HINT: Record<Language, string> = {
  Python: " Note that the provided function is in Python 3 syntax.",
  Java: " Note that the provided function is in Java syntax.",
  JavaScript: " Note that the provided function is in JavaScript syntax.",
};

/** Plain JSON for the chat template (ints as numbers). */
function plain(v: PyValue): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isPyDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** The docs as the model sees them: a language hint, and Java / JS parameters as source strings. */
export function promptTools(c: BfclCase): object[] {
  return c.docs.map((doc) => {
    const d = plain(doc as unknown as PyValue) as { description?: string; parameters: { properties: Record<string, Record<string, unknown>> } };
    d.description = `${d.description ?? ""}${LANGUAGE_HINT[c.language]}`;
    if (c.language !== "Python") {
      for (const p of Object.values(d.parameters.properties)) {
        const type = String(p.type ?? "any");
        const items = p.items as { type?: string } | undefined;
        p.description = `${p.description ?? ""} ${type === "any" ? `Any ${c.language} object` : `A ${c.language} ${type}`}, written as ${c.language} source code in a string.` +
          (items?.type ? ` Its elements are of type ${items.type}.` : "");
        delete p.items;
        delete p.properties;
        p.type = "string";
      }
    }
    return d;
  });
}

export type Decoded = { ok: true; calls: Call[]; skipped: number } | { ok: false; error: string };

const BLOCK_RE = /<tool_call>\s*(.*?)\s*<\/tool_call>/gs;

/** The `[{name: args}]` list BFCL's Qwen FC decoder makes of an assistant turn. */
export function decodeToolCalls(text: string): Decoded {
  const calls: Call[] = [];
  let skipped = 0;
  for (const m of text.matchAll(BLOCK_RE)) {
    const parsed = parsePyJson(m[1]);
    if (!parsed.ok) {
      skipped++; // the handler drops a block that is not JSON
      continue;
    }
    const v = parsed.value;
    if (!isPyDict(v)) return { ok: false, error: "decode: a <tool_call> holds JSON that is not an object" };
    if (!Object.hasOwn(v, "name")) return { ok: false, error: 'decode: a <tool_call> has no "name"' };
    if (!isPyDict(v.arguments ?? null)) return { ok: false, error: 'decode: a <tool_call> has no object "arguments"' };
    calls.push({ name: typeof v.name === "string" ? v.name : pyJsonDumps(v.name), args: v.arguments as PyDict });
  }
  return { ok: true, calls, skipped };
}
