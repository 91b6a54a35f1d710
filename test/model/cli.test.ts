/** The SPEC §6 model commands through the real CLI: same parity checks as parity.test.ts. */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectClose } from "../helpers/expect-close.ts";
import { FIXTURE_NAMES, fixtureDir, readExpected } from "../helpers/fixtures.ts";

const BIN = path.join(import.meta.dirname, "..", "..", "bin", "trirl.js");
const trirl = (...args: string[]) => JSON.parse(execFileSync("node", [BIN, ...args], { encoding: "utf8" }));

describe.each(FIXTURE_NAMES)("%s through the CLI", (name) => {
  const expected = readExpected(name);

  it("trirl logits matches the reference on the padded case", () => {
    const c = expected.cases.find((k) => k.attention_mask) ?? expected.cases[0];
    const input = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trirl-cli-")), "in.json");
    fs.writeFileSync(input, JSON.stringify({ input_ids: c.input_ids, attention_mask: c.attention_mask }));
    const { logits } = trirl("logits", "--model", fixtureDir(name), "--input", input) as { logits: number[][][] };
    expect([logits.length, logits[0].length, logits[0][0].length]).toEqual([c.input_ids.length, c.input_ids[0].length, 1000]);
    const real = (b: number, t: number) => !c.attention_mask || c.attention_mask[b][t] === 1;
    const got = logits.flatMap((seq, b) => seq.flatMap((row, t) => (real(b, t) ? [row.slice(0, 8)] : [])));
    const want = c.logits_first8.flatMap((seq, b) => seq.filter((_, t) => real(b, t)));
    expectClose(got, want, { atol: 1e-3 });
  });

  it("trirl generate --temperature 0 reproduces output_ids", () => {
    const g = expected.greedy;
    const out = trirl("generate", "--model", fixtureDir(name), "--prompt-ids", g.prompt.join(","), "--max-new-tokens", String(g.new_tokens), "--temperature", "0");
    expect(out).toEqual({ output_ids: g.output_ids });
  });
});

describe("CLI errors", () => {
  it("an out-of-vocabulary id is named on stderr with a non-zero exit", () => {
    const r = spawnSync("node", [BIN, "generate", "--model", fixtureDir("qwen2-tiny"), "--prompt-ids", "1,5000", "--max-new-tokens", "2"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--prompt-ids: 5000 is outside the vocabulary \(size 1000\)/);
    expect(r.stdout).toBe("");
  });
});
