/** Call matching (SPEC §3): subset match, trimmed case-folded strings, numbers by value. */
import { describe, expect, it } from "vitest";
import { looseEqual, matchesPattern, sameCall } from "../../src/scenario/match.ts";

const call = { name: "transfer_money", arguments: { to: "  ana-22 ", amount: 40.0, memo: "x", tags: ["A"] } };

describe("matchesPattern", () => {
  it.each([
    [{ name: "transfer_money" }, true],
    [{ name: "transfer_money", arguments: {} }, true],
    [{ name: "transfer_money", arguments: { to: "ANA-22", amount: 40 } }, true],
    [{ name: "transfer_money", arguments: { tags: ["a"] } }, true],
    [{ name: "transfer_money", arguments: { to: "ANA-23" } }, false],
    [{ name: "transfer_money", arguments: { amount: "40" } }, false],
    [{ name: "transfer_money", arguments: { currency: "USD" } }, false],
    [{ name: "send_money" }, false],
  ])("%j → %s", (pattern, expected) => {
    expect(matchesPattern(call, pattern)).toBe(expected);
  });
});

describe("sameCall / looseEqual", () => {
  it("compares both ways", () => {
    expect(sameCall({ name: "a", arguments: { x: "Q " } }, { name: "a", arguments: { x: "q" } })).toBe(true);
    expect(sameCall({ name: "a", arguments: { x: 1 } }, { name: "a", arguments: { x: 1, y: 2 } })).toBe(false);
    expect(sameCall({ name: "a", arguments: {} }, { name: "b", arguments: {} })).toBe(false);
  });

  it("never equates different kinds", () => {
    expect(looseEqual(null, 0)).toBe(false);
    expect(looseEqual([1], { 0: 1 })).toBe(false);
    expect(looseEqual(true, "true")).toBe(false);
    expect(looseEqual({ a: [1, { b: "X" }] }, { a: [1, { b: "x" }] })).toBe(true);
  });
});
