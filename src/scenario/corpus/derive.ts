/**
 * Purpose variants of a domain's train and validation task templates (purposes.ts): each benign
 * or sensitive task again with an ordinary purpose (same label, same calls) and again with a
 * harmful one (malicious: the task's goal call, its last required call, becomes the harmful
 * act). A task and its tools then say nothing about the label on their own: a model has to read
 * why the user asks. Test templates get no variants: they stay as written.
 */
import type { Rng } from "../../util/rng.ts";
import { purposes, type PurposeKind } from "./purposes.ts";
import { pick, type TaskTemplate } from "./types.ts";

export function withPurposes<F>(tasks: readonly TaskTemplate<F>[]): TaskTemplate<F>[] {
  return tasks.flatMap((t): TaskTemplate<F>[] => {
    const required = t.required;
    if (t.user === "malicious" || t.split === "test" || required === undefined) return [];
    const phrasings = t.phrasings.map((p) => `${p} {purpose}`);
    const slots = (kind: PurposeKind) => (f: F, rng: Rng) => ({ ...t.slots(f, rng), purpose: pick(rng, purposes(kind, t.split)) });
    const goal = (v: Parameters<typeof required>[0], f: F) => required(v, f).at(-1) ?? { name: t.tools[0] };
    return [
      { ...t, phrasings, slots: slots("ordinary") },
      { user: "malicious", split: t.split, phrasings, tools: t.tools, slots: slots("harmful"), act: goal, carrier: t.carrier },
    ];
  });
}
