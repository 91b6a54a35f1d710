/**
 * A report page as one self-contained HTML file: uPlot's minified script and stylesheet (read
 * from node_modules when the page is written), our page script (page.js) and styles (page.css),
 * and the report's data as JSON. A content-security policy forbids every fetch, so the page
 * opens offline (file://) and could not reach a network if it tried. Knows nothing about runs.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { ChartSpec } from "./chart.ts";
import type { RunData, ScenarioView } from "./run-data.ts";

export type Cell = string | number | null | { text: string; href: string };
export type Table = { id: string; title: string; columns: string[]; rows: Cell[][] };
/** The sample episodes of one run, for the page's browser. */
export type SamplesView = { run: string; systemPrompt: string; steps: RunData["samples"]; scenarios: Record<string, ScenarioView> };

export type PageData = {
  title: string;
  /** Lines under the title (what the page shows, where it came from). */
  notes: string[];
  tables: Table[];
  charts: ChartSpec[];
  samples: SamplesView[];
  /** Shown folded at the end (e.g. the resolved run configs). */
  details: { title: string; json: unknown }[];
};

const require = createRequire(import.meta.url);
const here = import.meta.dirname;

const read = (file: string) => fs.readFileSync(file, "utf8");
const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** JSON that cannot close its <script> element: every "<" becomes \u003c (still the same JSON). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function renderPage(data: PageData): string {
  const uplotJs = read(require.resolve("uplot/dist/uPlot.iife.min.js"));
  const uplotCss = read(require.resolve("uplot/dist/uPlot.min.css"));
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${uplotCss}</style>`,
    `<style>${read(path.join(here, "page.css"))}</style>`,
    '</head><body><main id="app"></main>',
    `<script id="trirl-data" type="application/json">${scriptJson(data)}</script>`,
    "<!-- uPlot (MIT License, Leon Sorokin), inlined from node_modules/uplot -->",
    `<script>${uplotJs}</script>`,
    `<script>${read(path.join(here, "page.js"))}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}

/** Writes `text` to `file` through a temporary file and a rename, so a reader never sees half a page. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
