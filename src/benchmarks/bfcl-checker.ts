/**
 * BFCL's AST checker for the single-turn categories, on decoded calls `{name, args}`: the function
 * name must match, required parameters be present, no parameter outside the doc and the possible
 * answer, each value pass the type check (Python int accepted for float; Java / JS strings converted
 * first, bfcl-convert.ts; a value of the possible answers' own type accepted as a "variable") and
 * then the value check (strings compared after `standardizeString`, lists and dicts element-wise,
 * everything else by Python `==`), and every possible-answer parameter without "" be given.
 * Parallel categories match in any order, greedily, as upstream does. Pure functions on values;
 * Python semantics come from py-value.ts. Reference: BFCL `ast_checker.py` (behaviour, not code).
 */
import { javaConvert, jsConvert } from "./bfcl-convert.ts";
import { isPyDict, pyEquals, pyIn, pyRepr, pyTypeName, type PyDict, type PyValue } from "./py-value.ts";

export type Language = "Python" | "Java" | "JavaScript";
/** One function doc as in the question files (`parameters.type` is "dict"). */
export type FunctionDoc = { name: string; parameters: { properties: PyDict; required?: string[] } };
export type Call = { name: string; args: PyDict };
/** One `{func_name: {param: [allowed values]}}` entry of a possible answer. */
export type ExpectedCall = { name: string; params: PyDict };
export type Check = { valid: true } | { valid: false; error: string; errorType: string };

const PYTHON_TYPES: Record<string, string> = { string: "str", integer: "int", float: "float", boolean: "bool", array: "list", tuple: "list", dict: "dict", any: "str" };
const JAVA_TYPES: Record<string, string> = {
  byte: "int", short: "int", integer: "int", float: "float", double: "float", long: "int", boolean: "bool", char: "str",
  Array: "list", ArrayList: "list", Set: "set", HashMap: "dict", Hashtable: "dict", Queue: "list", Stack: "list", String: "str", any: "str",
};
const JS_TYPES: Record<string, string> = { String: "str", integer: "int", float: "float", Bigint: "int", Boolean: "bool", dict: "dict", array: "list", any: "str" };
const NESTED_CONVERSION = new Set(["Array", "ArrayList", "array"]);

const fail = (errorType: string, error: string): Check => ({ valid: false, error, errorType });
const asList = (v: PyValue | undefined): PyValue[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Removes ` ,./-_*^`, lowercases, and turns ' into ", so "April 1, 2024" equals "april 1 2024". */
export function standardizeString(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, "").toLowerCase().replace(/'/g, '"');
}

const standardize = (v: PyValue): PyValue => (typeof v === "string" ? standardizeString(v) : v);

/** Type of the first possible answer that is not "" (the optional marker). */
function possibleAnswerType(possible: readonly PyValue[]): string | undefined {
  const first = possible.find((a) => !pyEquals(a, ""));
  return first === undefined ? undefined : pyTypeName(first);
}

type TypeCheck = { valid: boolean; isVariable: boolean; error: string; errorType: string };

function typeCheck(param: string, value: PyValue, possible: readonly PyValue[], expected: string, nested: string | undefined): TypeCheck {
  const result: TypeCheck = { valid: true, isVariable: false, error: "", errorType: "type_error:simple" };
  const answerType = possibleAnswerType(possible);
  const isVariable = answerType !== undefined && answerType !== expected;
  if (pyTypeName(value) === expected) {
    if (nested === undefined) return { ...result, isVariable };
    for (const item of possible) {
      // an answer that is not a list ("" for optional) passes without looking at the items, as upstream
      const isOk = !Array.isArray(item) || (value as PyValue[]).every((v) => typeCheck(param, v, item, nested, undefined).valid);
      if (isOk) return { ...result, isVariable };
    }
    result.valid = false;
    result.error = `Nested type checking failed for parameter '${param}': expected ${expected} of ${nested}, got ${pyRepr(value)}`;
    result.errorType = "type_error:nested";
  }
  if (answerType !== undefined && pyTypeName(value) === answerType) return { ...result, isVariable: true };
  return { valid: false, isVariable: false, error: `Incorrect type for parameter '${param}': expected ${expected}, got ${pyTypeName(value)} ${pyRepr(value)}`, errorType: "type_error:simple" };
}

function stringCheck(param: string, value: string, possible: readonly PyValue[]): Check {
  const allowed = possible.filter((p): p is string => typeof p === "string").map(standardizeString);
  return allowed.includes(standardizeString(value)) ? { valid: true } : fail("value_error:string", `Invalid value for parameter '${param}': ${pyRepr(value)}; expected one of ${pyRepr(possible as PyValue)} (case-insensitive)`);
}

/** Python iterates a string answer by characters, so a "" answer admits the empty list. */
const sequence = (v: PyValue): PyValue[] | undefined => (Array.isArray(v) ? v : typeof v === "string" ? [...v] : undefined);

function listCheck(param: string, value: PyValue[], possible: readonly PyValue[]): Check {
  const allowed = possible.flatMap((p) => {
    const items = sequence(p);
    return items === undefined ? [] : [items.map(standardize)];
  });
  return pyIn(value.map(standardize), allowed) ? { valid: true } : fail("value_error:list/tuple", `Invalid value for parameter '${param}': ${pyRepr(value)}; expected one of ${pyRepr(possible as PyValue)}`);
}

function dictCheck(param: string, value: PyDict, possible: readonly PyValue[]): Check {
  let result: Check = fail("dict_checker:unclear", `no possible answer for parameter '${param}'`);
  for (const answer of possible) {
    if (pyEquals(answer, "")) continue;
    if (!isPyDict(answer)) continue;
    const wrongKey = Object.keys(value).find((k) => !Object.hasOwn(answer, k));
    const wrongValue = Object.entries(value).find(([k, v]) => Object.hasOwn(answer, k) && !pyIn(standardize(v), asList(answer[k]).map(standardize)));
    const missing = Object.entries(answer).find(([k, allowed]) => !Object.hasOwn(value, k) && !pyIn("", asList(allowed)));
    if (wrongKey !== undefined) result = fail("value_error:dict_key", `Unexpected dict key parameter: '${wrongKey}'`);
    else if (wrongValue !== undefined) result = fail("value_error:dict_value", `Invalid value for parameter '${wrongValue[0]}': ${pyRepr(wrongValue[1])}`);
    else if (missing !== undefined) result = fail("value_error:dict_key", `Missing dict key parameter: '${missing[0]}'`);
    else return { valid: true };
  }
  return result;
}

function listDictCheck(param: string, value: PyValue[], possible: readonly PyValue[]): Check {
  let result: Check = fail("list_dict_checker:unclear", `no possible answer for parameter '${param}'`);
  for (const option of possible) {
    const items = sequence(option);
    if (items === undefined || items.length !== value.length) {
      result = fail("value_error:list_dict_count", "Wrong number of dictionaries in the list.");
      continue;
    }
    const bad = value.map((v, i) => (isPyDict(v) ? dictCheck(param, v, [items[i]]) : fail("value_error:list_dict", `list item ${i} is not a dict`))).find((c) => !c.valid);
    if (bad === undefined) return { valid: true };
    result = bad;
  }
  return result;
}

type Typed = { value: PyValue; expected: string; nested?: string } | Check;

/** The declared type of `param`, with Java / JS strings converted to it. */
function typedValue(param: string, value: PyValue, details: PyValue, language: Language): Typed {
  const desc = isPyDict(details) && typeof details.type === "string" ? details.type : undefined;
  const itemType = isPyDict(details) && isPyDict(details.items ?? null) && typeof (details.items as PyDict).type === "string" ? ((details.items as PyDict).type as string) : undefined;
  const table = language === "Java" ? JAVA_TYPES : language === "JavaScript" ? JS_TYPES : PYTHON_TYPES;
  const expected = desc === undefined ? undefined : table[desc];
  if (desc === undefined || expected === undefined) return fail("type_error:unsupported", `parameter '${param}' has type ${desc ?? "(none)"}, which the ${language} checker does not know`);
  if (language === "Python") {
    const nested = desc === "array" || desc === "tuple" ? (itemType === undefined ? undefined : PYTHON_TYPES[itemType]) : undefined;
    if ((desc === "array" || desc === "tuple") && nested === undefined) return fail("type_error:unsupported", `parameter '${param}' has item type ${itemType ?? "(none)"}`);
    return { value: desc === "float" && typeof value === "bigint" ? Number(value) : value, expected, nested };
  }
  if (typeof value !== "string") return fail(`type_error:${language === "Java" ? "java" : "js"}`, `Incorrect type for parameter '${param}': expected a ${language} source string, got ${pyTypeName(value)}`);
  const convert = language === "Java" ? javaConvert : jsConvert;
  const isNested = NESTED_CONVERSION.has(desc);
  const nested = isNested && itemType !== undefined ? table[itemType] : undefined;
  try {
    return { value: convert(value, desc, isNested ? itemType : undefined), expected, nested };
  } catch (error) {
    return fail("type_error:unsupported", (error as Error).message);
  }
}

/** Type then value check of one parameter value. */
function checkParam(param: string, value: PyValue, details: PyValue, possible: readonly PyValue[], language: Language): Check {
  const typed = typedValue(param, value, details, language);
  if ("valid" in typed) return typed;
  const tc = typeCheck(param, typed.value, possible, typed.expected, typed.nested);
  if (!tc.valid) return fail(tc.errorType, tc.error);
  const v = typed.value;
  if (!tc.isVariable) {
    if (typed.expected === "dict") return dictCheck(param, v as PyDict, possible);
    if (typed.expected === "list" && typed.nested === "dict") return listDictCheck(param, v as PyValue[], possible);
    if (typed.expected === "str") return stringCheck(param, v as string, possible);
    if (typed.expected === "list") return listCheck(param, v as PyValue[], possible);
  }
  return pyIn(v, possible) ? { valid: true } : fail("value_error:others", `Invalid value for parameter '${param}': ${pyRepr(v)}; expected one of ${pyRepr(possible as PyValue)}`);
}

/** One call against one function doc and one expected call. */
export function checkSimple(doc: FunctionDoc, call: Call, expected: ExpectedCall, language: Language): Check {
  if (call.name !== doc.name) return fail("simple_function_checker:wrong_func_name", `Function name '${doc.name}' not found in model output (got '${call.name}')`);
  const props = doc.parameters.properties;
  const missing = (doc.parameters.required ?? []).find((p) => !Object.hasOwn(call.args, p));
  if (missing !== undefined) return fail("simple_function_checker:missing_required", `Missing required parameter: '${missing}'`);
  for (const [param, value] of Object.entries(call.args)) {
    if (!Object.hasOwn(props, param) || !Object.hasOwn(expected.params, param)) return fail("simple_function_checker:unexpected_param", `Unexpected parameter: '${param}'`);
    const check = checkParam(param, value, props[param], asList(expected.params[param]), language);
    if (!check.valid) return check;
  }
  const unset = Object.keys(expected.params).find((p) => !Object.hasOwn(call.args, p) && !pyIn("", asList(expected.params[p])));
  if (unset !== undefined) return fail("simple_function_checker:missing_optional", `Optional parameter '${unset}' not provided and not marked as optional`);
  return { valid: true };
}

/** Parallel categories: as many calls as expected, matched in any order (first unmatched call that passes). */
export function checkParallel(docs: readonly FunctionDoc[], calls: readonly Call[], expected: readonly ExpectedCall[], language: Language): Check {
  if (calls.length !== expected.length) return fail("parallel_function_checker_no_order:wrong_count", `Wrong number of functions: ${calls.length}, expected ${expected.length}`);
  const matched = new Set<number>();
  for (const [i, want] of expected.entries()) {
    const doc = docs.find((d) => d.name === want.name);
    if (doc === undefined) return fail("data:missing_doc", `no function doc named '${want.name}'`);
    const index = calls.findIndex((call, k) => !matched.has(k) && checkSimple(doc, call, want, language).valid);
    if (index < 0) return fail("parallel_function_checker_no_order:cannot_find_match", `Could not find a matching function among the model's calls for expected call ${i} ('${want.name}')`);
    matched.add(index);
  }
  return { valid: true };
}

/** Dispatch by category name, as upstream: "parallel" → any order, "multiple" → one call of several docs, else simple. */
export function checkAst(category: string, docs: readonly FunctionDoc[], calls: readonly Call[], expected: readonly ExpectedCall[], language: Language): Check {
  if (category.includes("parallel")) return checkParallel(docs, calls, expected, language);
  const kind = category.includes("multiple") ? "multiple_function_checker" : "simple_function_checker";
  if (calls.length !== expected.length || calls.length !== 1) return fail(`${kind}:wrong_count`, `Wrong number of functions: ${calls.length}, expected ${expected.length}`);
  const doc = kind === "multiple_function_checker" ? docs.find((d) => d.name === expected[0].name) : docs[0];
  if (doc === undefined) return fail("data:missing_doc", `no function doc named '${expected[0].name}'`);
  return checkSimple(doc, calls[0], expected[0], language);
}
