/**
 * The BFCL AST checker on hand-written model outputs with known verdicts (docs and answers in the
 * data files' own format), plus decoding and relevance scoring.
 */
import { describe, expect, it } from "vitest";
import { checkAst, standardizeString, type Call, type ExpectedCall, type FunctionDoc } from "../../src/benchmarks/bfcl-checker.ts";
import { javaConvert, jsConvert } from "../../src/benchmarks/bfcl-convert.ts";
import { decodeToolCalls, type BfclCase } from "../../src/benchmarks/bfcl-data.ts";
import { scoreBfclTurn } from "../../src/benchmarks/bfcl.ts";
import { parsePyJson, type PyDict, type PyValue } from "../../src/benchmarks/py-value.ts";

const py = (text: string): PyValue => {
  const r = parsePyJson(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const doc = (json: string) => py(json) as unknown as FunctionDoc;
const answer = (json: string): ExpectedCall[] => (py(json) as PyDict[]).map((e) => ({ name: Object.keys(e)[0], params: e[Object.keys(e)[0]] as PyDict }));
const call = (name: string, args: string): Call => ({ name, args: py(args) as PyDict });

const TRIANGLE = doc(`{"name": "calculate_triangle_area", "parameters": {"type": "dict", "properties": {
  "base": {"type": "integer"}, "height": {"type": "float"}, "unit": {"type": "string"}}, "required": ["base", "height"]}}`);
const TRIANGLE_ANSWER = answer('[{"calculate_triangle_area": {"base": [10], "height": [5.0], "unit": ["units", ""]}}]');

describe("simple: types and values", () => {
  const check = (args: string) => checkAst("simple_python", [TRIANGLE], [call("calculate_triangle_area", args)], TRIANGLE_ANSWER, "Python");

  it("an int for a float parameter matches by coercion (Python int → float)", () => {
    expect(check('{"base": 10, "height": 5}')).toEqual({ valid: true });
  });

  it("an optional parameter may be left out, or given as an allowed string after standardisation", () => {
    expect(check('{"base": 10, "height": 5.0, "unit": "UNITS"}').valid).toBe(true);
  });

  it("a wrong value fails the value check", () => {
    expect(check('{"base": 12, "height": 5.0}')).toMatchObject({ valid: false, errorType: "value_error:others" });
  });

  it("a float for an integer parameter fails the type check (5.0 is not 5 to BFCL)", () => {
    expect(check('{"base": 10.0, "height": 5.0}')).toMatchObject({ valid: false, errorType: "type_error:simple" });
  });

  it("a string that is not allowed fails the string check", () => {
    expect(check('{"base": 10, "height": 5.0, "unit": "meters"}')).toMatchObject({ valid: false, errorType: "value_error:string" });
  });

  it("missing required, unexpected parameter, wrong name, wrong count", () => {
    expect(check('{"base": 10}')).toMatchObject({ errorType: "simple_function_checker:missing_required" });
    expect(check('{"base": 10, "height": 5.0, "color": "red"}')).toMatchObject({ errorType: "simple_function_checker:unexpected_param" });
    expect(checkAst("simple_python", [TRIANGLE], [call("area", '{"base": 10, "height": 5.0}')], TRIANGLE_ANSWER, "Python")).toMatchObject({ errorType: "simple_function_checker:wrong_func_name" });
    expect(checkAst("simple_python", [TRIANGLE], [], TRIANGLE_ANSWER, "Python")).toMatchObject({ errorType: "simple_function_checker:wrong_count" });
  });

  it("a possible-answer parameter without \"\" must be given even if the doc calls it optional", () => {
    const strict = answer('[{"calculate_triangle_area": {"base": [10], "height": [5.0], "unit": ["units"]}}]');
    expect(checkAst("simple_python", [TRIANGLE], [call("calculate_triangle_area", '{"base": 10, "height": 5.0}')], strict, "Python")).toMatchObject({ errorType: "simple_function_checker:missing_optional" });
  });

  it("strings are compared without spaces, punctuation and case", () => {
    expect(standardizeString("April 1, 2024")).toBe(standardizeString("april 1 2024"));
    expect(standardizeString("New-York_City")).toBe("newyorkcity");
  });
});

describe("lists and dicts", () => {
  const SORT = doc(`{"name": "sort", "parameters": {"type": "dict", "properties": {
    "items": {"type": "array", "items": {"type": "float"}}, "opts": {"type": "dict"}}, "required": ["items"]}}`);
  const SORT_ANSWER = answer('[{"sort": {"items": [[1.5, 2.0]], "opts": [{"order": ["asc", "ascending"]}, ""]}}]');
  const check = (args: string) => checkAst("simple_python", [SORT], [call("sort", args)], SORT_ANSWER, "Python");

  it("a list equal by Python == passes; the wrong order fails", () => {
    expect(check('{"items": [1.5, 2.0]}').valid).toBe(true);
    expect(check('{"items": [2.0, 1.5]}')).toMatchObject({ errorType: "value_error:list/tuple" });
  });

  it("ints inside a list of floats are not coerced: a nested type error", () => {
    expect(check('{"items": [1, 2]}')).toMatchObject({ valid: false, errorType: "type_error:nested" });
  });

  it("a dict value is checked key by key", () => {
    expect(check('{"items": [1.5, 2.0], "opts": {"order": "Ascending"}}').valid).toBe(true);
    expect(check('{"items": [1.5, 2.0], "opts": {"order": "desc"}}')).toMatchObject({ errorType: "value_error:dict_value" });
    expect(check('{"items": [1.5, 2.0], "opts": {"limit": 3}}')).toMatchObject({ errorType: "value_error:dict_key" });
  });
});

describe("parallel and multiple", () => {
  const PLAY = doc('{"name": "spotify.play", "parameters": {"type": "dict", "properties": {"artist": {"type": "string"}, "duration": {"type": "integer"}}, "required": ["artist", "duration"]}}');
  const PLAY_ANSWER = answer('[{"spotify.play": {"artist": ["Taylor Swift"], "duration": [20]}}, {"spotify.play": {"artist": ["Maroon 5"], "duration": [15]}}]');

  it("a parallel answer in another order is correct", () => {
    const calls = [call("spotify.play", '{"artist": "Maroon 5", "duration": 15}'), call("spotify.play", '{"artist": "taylor swift", "duration": 20}')];
    expect(checkAst("parallel", [PLAY], calls, PLAY_ANSWER, "Python")).toEqual({ valid: true });
  });

  it("one wrong call, or a missing one, fails", () => {
    const wrong = [call("spotify.play", '{"artist": "Maroon 5", "duration": 16}'), call("spotify.play", '{"artist": "Taylor Swift", "duration": 20}')];
    expect(checkAst("parallel", [PLAY], wrong, PLAY_ANSWER, "Python")).toMatchObject({ errorType: "parallel_function_checker_no_order:cannot_find_match" });
    expect(checkAst("live_parallel", [PLAY], wrong.slice(1), PLAY_ANSWER, "Python")).toMatchObject({ errorType: "parallel_function_checker_no_order:wrong_count" });
  });

  it("multiple: the doc is the expected function's, not the first", () => {
    const other = doc('{"name": "stop", "parameters": {"type": "dict", "properties": {}, "required": []}}');
    expect(checkAst("multiple", [other, PLAY], [call("spotify.play", '{"artist": "Taylor Swift", "duration": 20}')], PLAY_ANSWER.slice(0, 1), "Python").valid).toBe(true);
  });
});

describe("Java and JavaScript: arguments are source strings", () => {
  const JAVA = doc(`{"name": "Cfg.set", "parameters": {"type": "dict", "properties": {"flag": {"type": "boolean"}, "n": {"type": "long"},
    "names": {"type": "ArrayList", "items": {"type": "String"}}, "obj": {"type": "any"}}, "required": ["flag"]}}`);
  const JAVA_ANSWER = answer('[{"Cfg.set": {"flag": [true], "n": [5, ""], "names": [["\\"a\\"", "\\"b\\""], ""], "obj": ["mapController", ""]}}]');
  const check = (args: string) => checkAst("simple_java", [JAVA], [call("Cfg.set", args)], JAVA_ANSWER, "Java");

  it('"true" and "5L" convert to the answer\'s bool and int', () => {
    expect(check('{"flag": "true", "n": "5L", "obj": "mapController"}')).toEqual({ valid: true });
  });

  it("a JSON bool instead of a string is a Java type error; 5 without L stays a string and fails", () => {
    expect(check('{"flag": true}')).toMatchObject({ errorType: "type_error:java" });
    expect(check('{"flag": "true", "n": "5"}')).toMatchObject({ valid: false, errorType: "type_error:simple" });
  });

  it("converters read collections as BFCL does", () => {
    expect(javaConvert('new ArrayList<>(Arrays.asList("a", "b"))', "ArrayList", "String")).toEqual(["a", "b"]);
    expect(javaConvert("new int[]{1, 2, 3}", "Array", "integer")).toEqual([1n, 2n, 3n]);
    expect(javaConvert('new HashMap<String, Object>() {{ put("k", 1); put("v", true); }}', "HashMap")).toEqual({ k: 1n, v: true });
    expect(javaConvert("3.14f", "float")).toBe(3.14);
    expect(jsConvert("[1, 'two', true]", "array")).toEqual([1n, "two", true]);
    expect(jsConvert("{'key1': 123, 'key2': 'value'}", "dict")).toEqual({ key1: 123n, key2: "value" });
    expect(jsConvert("'abc'", "String")).toBe("abc");
  });
});

describe("decoding and relevance", () => {
  it("reads every <tool_call> block, skips one that is not JSON, fails on a malformed object", () => {
    const text = '<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call><tool_call>{"name": "g", "arguments": {}}</tool_call><tool_call>{oops</tool_call>';
    expect(decodeToolCalls(text)).toEqual({ ok: true, calls: [{ name: "f", args: { x: 1n } }, { name: "g", args: {} }], skipped: 1 });
    expect(decodeToolCalls('<tool_call>{"name": "f"}</tool_call>')).toMatchObject({ ok: false });
    expect(decodeToolCalls("plain text")).toEqual({ ok: true, calls: [], skipped: 0 });
  });

  const relevanceCase = (category: "irrelevance" | "live_relevance"): BfclCase => ({ id: "x", category, language: "Python", messages: [], docs: [TRIANGLE] });
  it("irrelevance is correct without a call; live_relevance needs one", () => {
    const withCall = '<tool_call>{"name": "calculate_triangle_area", "arguments": {}}</tool_call>';
    expect(scoreBfclTurn(relevanceCase("irrelevance"), "I cannot compute that with these tools.").correct).toBe(true);
    expect(scoreBfclTurn(relevanceCase("irrelevance"), withCall).correct).toBe(false);
    expect(scoreBfclTurn(relevanceCase("live_relevance"), withCall).correct).toBe(true);
    expect(scoreBfclTurn(relevanceCase("live_relevance"), "no").correct).toBe(false);
  });

  it("an AST case without any readable call is wrong with a decode error type", () => {
    const c: BfclCase = { id: "s", category: "simple_python", language: "Python", messages: [], docs: [TRIANGLE], expected: TRIANGLE_ANSWER };
    expect(scoreBfclTurn(c, "garbage <tool_call>{bad</tool_call>")).toMatchObject({ correct: false, errorType: "decode: no tool call" });
    expect(scoreBfclTurn(c, '<tool_call>{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}</tool_call>')).toEqual({ correct: true });
  });
});
