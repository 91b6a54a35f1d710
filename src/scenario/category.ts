/**
 * A scenario's category for per-category metrics: its user label and the set of tool labels
 * it offers (SPEC §1: one taxonomy for both channels). `key` is a stable string such as
 * `sensitive/benign+malicious+sensitive` for grouping and JSON output.
 */
import { LABELS, type Label, type Scenario } from "./schema.ts";

export type Category = { user: Label; tools: Label[]; key: string };

export function scenarioCategory(s: Pick<Scenario, "user" | "tools">): Category {
  const present = new Set(s.tools.map((t) => t.class));
  const tools = LABELS.filter((l) => present.has(l));
  return { user: s.user, tools, key: `${s.user}/${tools.join("+")}` };
}

/** True when some tool's output carries injected instructions (a "malicious" tool). */
export function hasInjection(s: Pick<Scenario, "tools">): boolean {
  return s.tools.some((t) => t.class === "malicious");
}
