/** Python semantics the scorers rely on: json.loads typing, ==, json.dumps. */
import { describe, expect, it } from "vitest";
import { parsePyJson, pyEquals, pyIn, pyJsonDumps, pyTypeName } from "../../src/benchmarks/py-value.ts";

const parse = (text: string) => {
  const r = parsePyJson(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("parsePyJson", () => {
  it("keeps int and float apart as json.loads does", () => {
    const v = parse('{"a": 5, "b": 5.0, "c": 1e3, "d": -0, "e": [1, 2.5]}') as Record<string, unknown>;
    expect([v.a, v.b, v.c, v.d]).toEqual([5n, 5, 1000, -0n]);
    expect(["a", "b", "c"].map((k) => pyTypeName(v[k] as never))).toEqual(["int", "float", "float"]);
    expect(v.e).toEqual([1n, 2.5]);
  });

  it("reads strings, escapes, literals and a __proto__ key as plain data", () => {
    const v = parse('{"s": "a\\"b\\u00e9", "t": true, "n": null, "__proto__": 1}') as Record<string, unknown>;
    expect(v.s).toBe('a"bé');
    expect([v.t, v.n]).toEqual([true, null]);
    expect(Object.hasOwn(v, "__proto__")).toBe(true);
  });

  it("reports malformed text as an error, never throws", () => {
    for (const bad of ["{", '{"a": }', "[1,]", "01", '{"a": 1} x', "'single'"]) expect(parsePyJson(bad).ok).toBe(false);
  });
});

describe("pyEquals", () => {
  it("compares numbers and bools by value, like Python ==", () => {
    expect(pyEquals(1n, 1.0)).toBe(true);
    expect(pyEquals(true, 1n)).toBe(true);
    expect(pyEquals(false, 0)).toBe(true);
    expect(pyEquals(2n, 2.5)).toBe(false);
    expect(pyEquals("1", 1n)).toBe(false);
    expect(pyEquals(null, null)).toBe(true);
  });

  it("compares containers deeply", () => {
    expect(pyEquals([1n, "a"], [1.0, "a"])).toBe(true);
    expect(pyEquals([1n], [1n, 2n])).toBe(false);
    expect(pyEquals(parse('{"a": [1]}'), parse('{"a": [1.0]}'))).toBe(true);
    expect(pyEquals(parse('{"a": 1}'), parse('{"b": 1}'))).toBe(false);
    expect(pyIn("", ["x", ""])).toBe(true);
  });
});

describe("pyJsonDumps", () => {
  it("writes Python's separators, floats with a point, and escapes non-ASCII", () => {
    expect(pyJsonDumps(parse('{"a": 1, "b": [2.0, "é"]}'))).toBe('{"a": 1, "b": [2.0, "\\u00e9"]}');
    expect(pyJsonDumps(parse('{"b": "é"}'), false)).toBe('{"b": "é"}');
    expect(pyJsonDumps("{'id': 'x'}")).toBe("\"{'id': 'x'}\"");
  });
});
