/** Argument validation against the supported JSON Schema subset. */
import { describe, expect, it } from "vitest";
import { schemaErrors, type ParamSchema } from "../../src/scenario/json-schema.ts";

const schema: ParamSchema = {
  type: "object",
  properties: {
    to: { type: "string", minLength: 2, maxLength: 8 },
    amount: { type: "number", minimum: 0.01, maximum: 1000 },
    count: { type: "integer" },
    mode: { enum: ["fast", "slow"] },
    tags: { type: "array", items: { type: "string" }, maxItems: 2 },
    meta: { type: "object", properties: { ok: { type: "boolean" } } },
  },
  required: ["to", "amount"],
  additionalProperties: false,
};

describe("schemaErrors", () => {
  it("accepts valid arguments", () => {
    expect(schemaErrors({ to: "ANA-22", amount: 40, count: 3, mode: "fast", tags: ["a"], meta: { ok: true, extra: 1 } }, schema)).toEqual([]);
  });

  it.each([
    [{ amount: 1 }, 'arguments: missing required "to"'],
    [{ to: "ANA", amount: "40" }, "arguments.amount: expected number, got string"],
    [{ to: "ANA", amount: 0 }, "arguments.amount: 0 is below the minimum 0.01"],
    [{ to: "ANA", amount: 1e999 }, "arguments.amount: expected number, got a non-finite number"],
    [{ to: "ANA", amount: 1, count: 1.5 }, "arguments.count: expected integer, got number"],
    [{ to: "A", amount: 1 }, "arguments.to: length 1 is below 2"],
    [{ to: "ANA", amount: 1, mode: "warp" }, 'arguments.mode: expected one of ["fast","slow"]'],
    [{ to: "ANA", amount: 1, tags: ["a", 2] }, "arguments.tags[1]: expected string, got integer"],
    [{ to: "ANA", amount: 1, tags: ["a", "b", "c"] }, "arguments.tags: item count 3 is above 2"],
    [{ to: "ANA", amount: 1, meta: { ok: "yes" } }, "arguments.meta.ok: expected boolean, got string"],
    [{ to: "ANA", amount: 1, cc: "x" }, 'arguments: unexpected "cc"'],
  ])("%j → %s", (args, error) => {
    expect(schemaErrors(args, schema)).toContain(error);
  });

  it("reports at most five errors", () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    expect(schemaErrors(many, schema)).toHaveLength(5);
  });

  it("stops at the depth limit", () => {
    let deep: ParamSchema = { type: "array" };
    for (let i = 0; i < 40; i++) deep = { type: "array", items: deep };
    let value: unknown = [];
    for (let i = 0; i < 40; i++) value = [value];
    expect(schemaErrors(value as never, deep).join()).toMatch(/nested deeper than 16 levels/);
  });
});
