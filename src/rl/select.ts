/**
 * Best-step selection. RL on a small model swings between behaviours from step to step (a step
 * sees 4 scenarios), so the last step is an arbitrary draw. Every `select.every` steps, and once
 * before the first, the policy is evaluated greedily on validation scenarios; the adapter with the
 * best score — the balanced decision accuracy, the mean over user labels of the `decision` part —
 * is kept in `best/`, written atomically. Ties keep the earlier adapter (less drift from the base).
 * A run whose RL never beats its start selects step 0: the model RL started from.
 * With `select.benignTolerance`, a step is eligible only while it keeps benign work: its benign
 * decision accuracy and benign task completion at most that far below step 0's, its over-refusal
 * at most that far above (a higher balanced accuracy bought by checking or refusing benign
 * requests is not an improvement a user wants).
 */
import fs from "node:fs";
import path from "node:path";
import type { Lora } from "../lora/lora.ts";
import { snapshotAdapter, writeAdapter } from "../lora/peft.ts";
import { replaceDir } from "./checkpoint.ts";
import type { EvalReport } from "./evaluate.ts";

/** The adapter after `step` GRPO steps scored `score` on the validation scenarios. */
export type Selection = { step: number; score: number; report: EvalReport };

const BEST_DIR = "best";
const SELECTION_FILE = "selection.json";
/** One line per validation eval in the run folder. */
export const VALIDATION_LOG = "validation.jsonl";

/** Mean decision accuracy over the user labels the report has scenarios for. */
export function selectionScore(report: EvalReport): number {
  const values = Object.values(report.decision_accuracy).filter((v): v is number => v !== null);
  return values.length === 0 ? 0 : values.reduce((a, v) => a + v, 0) / values.length;
}

type Guarded = Pick<EvalReport, "decision_accuracy" | "task_completion_by_label" | "over_refusal">;

/** Whether `report` keeps the benign behaviour of `start` within `tolerance` (fractions; a missing value passes). */
export function keepsBenign(report: Guarded, start: Guarded, tolerance: number): boolean {
  const notBelow = (a: number | null, b: number | null) => a === null || b === null || a >= b - tolerance - 1e-9;
  return notBelow(report.decision_accuracy.benign, start.decision_accuracy.benign)
    && notBelow(report.task_completion_by_label.benign, start.task_completion_by_label.benign)
    && notBelow(start.over_refusal, report.over_refusal);
}

/** Writes `dir/adapter` and `dir/selection.json` together (temp folder, then rename). */
async function saveSelection(dir: string, lora: Lora, selection: Selection, baseModelDir: string): Promise<void> {
  const adapter = await snapshotAdapter(lora);
  replaceDir(dir, (tmp) => {
    writeAdapter(path.join(tmp, "adapter"), adapter, { baseModelDir });
    fs.writeFileSync(path.join(tmp, SELECTION_FILE), `${JSON.stringify(selection, null, 2)}\n`);
  });
}

/** The saved selection in `dir`, if a run wrote one. */
function readSelection(dir: string): Selection | undefined {
  const file = path.join(dir, SELECTION_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Selection) : undefined;
}

/** The best validated adapter of a run, kept in `outDir/best/`; every validation logged. */
export type BestStep = {
  current(): Selection | undefined;
  /** Where the best adapter is saved (PEFT layout). */
  adapterDir: string;
  /**
   * Logs the validation `report` taken after `step` steps and keeps `lora` if it beats the best so
   * far; returns this validation's score and the best selection.
   */
  record(step: number, report: EvalReport): Promise<{ score: number; best: Selection }>;
};

/** The step-0 line of a run's validation log, if it has one. */
function startLine(outDir: string): Guarded | undefined {
  const file = path.join(outDir, VALIDATION_LOG);
  if (!fs.existsSync(file)) return undefined;
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Guarded & { step: number }).find((l) => l.step === 0);
}

/** `benignTolerance`: see the header; undefined = every step is eligible. */
export function bestStep(outDir: string, lora: Lora, baseModelDir: string, isResume: boolean, benignTolerance?: number): BestStep {
  const dir = path.join(outDir, BEST_DIR);
  // a best written by steps a resume redoes stays: the redo reproduces them exactly
  let best = isResume ? readSelection(dir) : undefined;
  let start = isResume ? startLine(outDir) : undefined;
  return {
    current: () => best,
    adapterDir: path.join(dir, "adapter"),
    async record(step, report) {
      const score = selectionScore(report);
      if (step === 0) start = report;
      const eligible = best === undefined || benignTolerance === undefined || start === undefined || keepsBenign(report, start, benignTolerance);
      const line = { step, score, decision_accuracy: report.decision_accuracy, task_completion: report.task_completion, task_completion_by_label: report.task_completion_by_label, over_refusal: report.over_refusal, ...(benignTolerance === undefined ? {} : { eligible }) };
      fs.appendFileSync(path.join(outDir, VALIDATION_LOG), `${JSON.stringify(line)}\n`);
      if (eligible && (best === undefined || score > best.score)) {
        const kept: Selection = { step, score, report };
        best = kept;
        await saveSelection(dir, lora, kept, baseModelDir);
        return { score, best: kept };
      }
      return { score, best: best! }; // not eligible implies a best exists
    },
  };
}
