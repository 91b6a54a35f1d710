/**
 * Claiming a run folder: a new run writes only into a folder that is new or empty, so it can never
 * destroy another run. `isOverwrite` replaces a folder that holds a trirl run and nothing else;
 * a folder with other files is never emptied. A resumed run continues in its own folder.
 */
import fs from "node:fs";
import path from "node:path";

/** What a run writes into its folder (run.ts, select.ts, checkpoint.ts, the report). */
const RUN_ENTRIES = new Set(["config.json", "metrics.jsonl", "validation.jsonl", "eval_before.json", "eval_after.json", "eval_before_episodes.jsonl", "eval_after_episodes.jsonl", "adapter", "best", "checkpoint", "samples", "report.html"]);
// replaceDir's temporary folders: `best.tmp-123`, `checkpoint.old-123`
const isRunEntry = (name: string) => RUN_ENTRIES.has(name.replace(/\.(tmp|old)-\d+$/, ""));

export type ClaimOptions = { isResume: boolean; isOverwrite?: boolean };

/** Throws, naming the folder and what is in it, unless a run may write to `outDir`; with `isOverwrite`, removes the old run's files. */
export function claimRunFolder(outDir: string, { isResume, isOverwrite = false }: ClaimOptions): void {
  if (isResume) {
    if (!fs.existsSync(path.join(outDir, "config.json"))) throw new Error(`${outDir}: no config.json, so not a trirl run folder to resume`);
    return;
  }
  if (!fs.existsSync(outDir)) return;
  if (!fs.statSync(outDir).isDirectory()) throw new Error(`${outDir}: exists and is not a folder\n---> HINT: pick another --out`);
  const entries = fs.readdirSync(outDir);
  if (entries.length === 0) return;
  const listed = (names: string[]) => names.slice(0, 5).join(", ") + (names.length > 5 ? `, … (${names.length} in all)` : "");
  const foreign = entries.filter((e) => !isRunEntry(e));
  if (foreign.length > 0)
    throw new Error(`${outDir}: not empty, and holds files that are not a trirl run's (${listed(foreign)})\n---> HINT: a run needs a new or empty folder: pick another --out`);
  if (!isOverwrite)
    throw new Error(`${outDir}: already holds a trirl run (${listed(entries)}); a new run never overwrites one\n---> HINT: --resume ${outDir} continues it; pick another --out, or pass --overwrite to replace it`);
  for (const e of entries) fs.rmSync(path.join(outDir, e), { recursive: true, force: true });
}
