/**
 * Headless Chromium for page tests: the system's `chromium` (Debian's package; .ci/run installs
 * it) driven by playwright-core, which downloads no browser of its own. Each launch gets a fresh
 * profile and no network services; every console error and page error is collected.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium executable, or undefined when this machine has none. */
export function findChromium(): string | undefined {
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (found) return found;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined; // `command -v` exits 1 when there is none: that is the answer, not a fault
  }
}

export type OpenedPage = { page: Page; errors: string[]; close: () => Promise<void> };

/** Opens `file` (a local HTML file) in headless Chromium with a `width`-pixel viewport. */
export async function openPage(executablePath: string, file: string, width = 1280): Promise<OpenedPage> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(`console: ${m.text()}`)));
  page.on("pageerror", (e) => void errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => void errors.push(`request failed: ${r.url()}`));
  await page.goto(`file://${path.resolve(file)}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return {
    page,
    errors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
