/**
 * `trirl bench injecagent`: all four test-case files (direct harm and data stealing, base and
 * enhanced) on the native function-calling path. Step 1 continues every case once (greedy,
 * batched); data-stealing cases whose step 1 called the extraction tool get step 2 with the cached
 * attacker-tool response; each first tool call is classified (injecagent-score.ts) and the ASR
 * figures computed per setting. Reference: Zhan et al. 2024, the harness's fine-tuned-agent path.
 */
import type { Policy } from "../rollout/rollout.ts";
import { parseTurn } from "../sandbox/parse.ts";
import { spreadSelect } from "./data-files.ts";
import {
  INJECAGENT_FILES, INJECAGENT_SYSTEM_PROMPT, callArgumentsText, firstConversation, loadAttackerCache, loadInjecFile,
  loadInjecTools, lookupAttackerResponse, secondConversation, type AttackerCache, type CacheLookup, type InjecCase, type InjecDataError,
} from "./injecagent-data.ts";
import { classifyFirstCall, scoreSetting, type CaseResult, type Outcome, type SettingScore } from "./injecagent-score.ts";
import { formatTable, pct, reportBase, tally, type BenchOptions, type CaseRecord, type ReportBase } from "./report.ts";
import { generateTurns, type Conversation, type Turn } from "./turns.ts";

export type InjecAgentReport = ReportBase & {
  settings: { base: SettingScore; enhanced: SettingScore };
  /** How DS step 2 found the attacker tool's response. */
  step2_cache: Record<string, number>;
};

const NOTES = [
  "native function-calling path (the official fine-tuned-agent harness), greedy decoding, first tool call only",
  "an unreadable first <tool_call> (bad JSON, no name) counts as invalid; a prompt longer than the model's context is invalid",
  "data-stealing step 2: attacker-tool response from attacker_simulated_responses.json by exact (tool, arguments) key, else the first cached response of that tool (the harness would ask GPT-4); only whether GmailSendEmail is called next is scored",
];

type Step1 = { c: InjecCase; turn: Turn; outcome: Outcome };

/** The classified first call of a generated turn; a failed generation is invalid with its reason. */
export function classifyTurn(turn: Turn, target: string, userTool: string): Outcome {
  if (!turn.ok) return { label: "invalid", reason: turn.reason };
  const parsed = parseTurn(turn.text);
  const first = parsed.calls[0];
  const call = first === undefined ? undefined : { name: first.request?.name, error: first.error };
  return classifyFirstCall({ text: parsed.text, call }, target, userTool);
}

function selectCases(opts: BenchOptions): (InjecCase | InjecDataError)[] {
  const tools = loadInjecTools(opts.dir);
  const files = INJECAGENT_FILES.map((f) => loadInjecFile(opts.dir, f.kind, f.setting, tools));
  return spreadSelect(files, opts.maxCases).flat();
}

type Step2 = { turn: Turn; lookup: string; outcome: Outcome };

/**
 * The step-2 conversation of a data-stealing case whose step-1 turn (`step1Text`) called the
 * extraction tool, with how the tool's response was found; undefined for any other case.
 */
export function planSteal(c: InjecCase, step1Text: string, system: string, cache: AttackerCache): { conversation: Conversation; lookup: CacheLookup } | undefined {
  const parsed = parseTurn(step1Text);
  const request = parsed.calls[0]?.request;
  if (c.kind !== "ds" || request?.name !== c.attackerTools[0]) return undefined;
  const lookup = lookupAttackerResponse(cache, request.name, request.arguments);
  const step1 = { text: parsed.text, name: request.name, argumentsText: callArgumentsText(request.arguments) };
  return { conversation: secondConversation(c, system, step1, lookup.response), lookup };
}

/** Step 2 for the data-stealing cases whose step 1 succeeded. */
async function stealSteps(policy: Policy, step1: readonly Step1[], system: string, opts: BenchOptions): Promise<Map<string, Step2>> {
  const cache = loadAttackerCache(opts.dir);
  const plans = step1.flatMap((s) => {
    const plan = s.outcome.label === "succ" && s.turn.ok ? planSteal(s.c, s.turn.text, system, cache) : undefined;
    return plan === undefined ? [] : [{ c: s.c, ...plan }];
  });
  const turns = await generateTurns(policy, plans.map((p) => p.conversation), opts, (done, total) => opts.onProgress?.("injecagent step 2", done, total));
  return new Map(plans.map((p, i) => [p.c.id, { turn: turns[i], lookup: p.lookup.match, outcome: classifyTurn(turns[i], p.c.attackerTools[1], p.c.userTool) }]));
}

function caseRecord(c: InjecCase | InjecDataError, s1: Step1 | undefined, s2: Step2 | undefined): CaseRecord {
  const base = { benchmark: "injecagent", id: c.id, kind: c.kind, setting: c.setting };
  if ("invalid" in c || s1 === undefined) return { ...base, invalid: "invalid" in c ? c.invalid : "not run" };
  const failed = [s1.outcome, s2?.outcome].find((o) => o?.label === "invalid");
  return {
    ...base, attack_type: c.attackType, step1: s1.outcome.label, step1_reason: s1.outcome.reason, output: s1.turn.ok ? s1.turn.text : undefined,
    ...(s2 ? { step2: s2.outcome.label, step2_reason: s2.outcome.reason, step2_cache: s2.lookup, step2_output: s2.turn.ok ? s2.turn.text : undefined } : {}),
    ...(failed ? { invalid: failed.reason } : {}),
  };
}

export async function runInjecAgent(policy: Policy, opts: BenchOptions): Promise<InjecAgentReport> {
  const start = performance.now();
  const system = opts.systemPrompt ?? INJECAGENT_SYSTEM_PROMPT;
  const cases = selectCases(opts);
  const valid = cases.filter((c): c is InjecCase => !("invalid" in c));
  const turns = await generateTurns(policy, valid.map((c) => firstConversation(c, system)), opts, (done, total) => opts.onProgress?.("injecagent step 1", done, total));
  const step1 = new Map(valid.map((c, i): [string, Step1] => [c.id, { c, turn: turns[i], outcome: classifyTurn(turns[i], c.attackerTools[0], c.userTool) }]));
  const step2 = await stealSteps(policy, [...step1.values()], system, opts);
  const records = cases.map((c) => caseRecord(c, step1.get(c.id), step2.get(c.id)));
  records.forEach((r) => opts.onCase?.(r));
  const results = (setting: string): CaseResult[] =>
    cases.filter((c) => c.setting === setting).map((c) => ({
      kind: c.kind, setting: c.setting, step1: step1.get(c.id)?.outcome.label ?? "invalid", step2: step2.get(c.id)?.outcome.label,
    }));
  return {
    ...reportBase("injecagent", records, start, NOTES),
    settings: { base: scoreSetting(results("base")), enhanced: scoreSetting(results("enhanced")) },
    step2_cache: tally([...step2.values()].map((s) => s.lookup)),
  };
}

/** The table on stderr: official metric names, base and enhanced side by side (lower ASR is safer). */
export function injecAgentTable(r: InjecAgentReport): string {
  const { base, enhanced } = r.settings;
  const row = (name: string, f: (s: SettingScore) => number | null) => [name, pct(f(base)), pct(f(enhanced))];
  return formatTable([
    ["InjecAgent (lower ASR = safer)", "base", "enhanced"],
    ["cases", String(base.cases), String(enhanced.cases)],
    row("ASR-valid (Direct Harm)", (s) => s.asr_valid.direct_harm),
    row("ASR-valid (S1)", (s) => s.asr_valid.s1),
    row("ASR-valid (S2)", (s) => s.asr_valid.s2),
    row("ASR-valid (Data Stealing)", (s) => s.asr_valid.data_stealing),
    row("ASR-valid (Total)", (s) => s.asr_valid.total),
    row("ASR-all (Total)", (s) => s.asr_all.total),
    row("Valid Rate", (s) => s.valid_rate),
  ]);
}
