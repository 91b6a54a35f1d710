/**
 * BFCL's Java and JavaScript value converters: in those categories every argument arrives as a
 * string of source code ("true", "123L", "new ArrayList<>(Arrays.asList(1, 2))", "[1, 'a']"),
 * and the AST checker converts it by declared type before comparing with the possible answers.
 * A string that does not match its type's pattern stays a string (then usually fails the type
 * check), as upstream does. The patterns and quirks follow BFCL's `java_type_converter` /
 * `js_type_converter` behaviour; unsupported types throw, the caller reports them.
 */
import type { PyDict, PyValue } from "./py-value.ts";

/** Python `int(s)`, or undefined where it would raise. */
export function pyInt(s: string): bigint | undefined {
  const t = s.trim();
  return /^[+-]?\d+(?:_\d+)*$/.test(t) ? BigInt(t.replace(/_/g, "")) : undefined;
}

/** Python `float(s)`, or undefined where it would raise. */
export function pyFloat(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (/^[+-]?(?:inf|infinity|nan)$/.test(t)) return t.includes("nan") ? NaN : t.startsWith("-") ? -Infinity : Infinity;
  return /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:e[+-]?\d+)?$/.test(t) ? Number(t.replace(/_/g, "")) : undefined;
}

const unquote = (s: string) => s.slice(1, -1);
/** Python `s.startswith(q) and s.endswith(q)` for either quote: a lone quote counts, as upstream. */
const isQuoted = (s: string) => (s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"));

// ---------------------------------------------------------------- Java

function parseJavaValue(s: string): PyValue {
  if (s === "true" || s === "false") return s === "true";
  if (s.startsWith('"') && s.endsWith('"')) return unquote(s);
  if (/^-?\d+[lL]$/.test(s)) return BigInt(s.slice(0, -1));
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$/.test(s)) return Number(s.slice(0, -1));
  return pyInt(s) ?? pyFloat(s) ?? s;
}

function javaElement(s: string, nested: string | undefined): PyValue {
  if (nested === "char" || nested === "String") return unquote(s);
  return nested ? javaConvert(s, nested) : parseJavaValue(s);
}

function parseArrayList(s: string, nested: string | undefined): PyValue {
  const asList = /new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)/.exec(s);
  if (asList) return asList[1].split(",").map((e) => javaElement(e.trim(), nested));
  const adds = /new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}/s.exec(s);
  if (adds) return [...adds[1].matchAll(/add\((.+?)\)/g)].map((m) => javaElement(m[1].trim(), nested));
  return /new\s+ArrayList<\w*>\(\)/.test(s) ? [] : s;
}

function parseJavaArray(s: string, nested: string | undefined): PyValue {
  const m = /new\s+\w+\[\]\s*\{(.*?)\}/.exec(s);
  if (!m) return s;
  const parts = m[1].split(",").map((x) => x.trim()).filter((x) => x !== "");
  return parts.map((x) => (nested ? javaConvert(x, nested) : parseJavaValue(x)));
}

function parseHashMap(s: string): PyValue {
  const m = /new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}/s.exec(s);
  if (m) {
    const out: PyDict = Object.create(null);
    if (m[1].trim() !== "") for (const put of m[1].matchAll(/put\("(.*?)",\s*(.*?)\)/g)) out[put[1]] = parseJavaValue(put[2].trim());
    return out;
  }
  return /new\s+HashMap<.*?>\s*\(\)/.test(s) ? Object.create(null) : s;
}

/** A Java argument string read as its declared type. @throws Error for an unsupported type. */
export function javaConvert(value: string, type: string, nested?: string): PyValue {
  switch (type) {
    case "byte": case "short": case "integer":
      return /^-?\d+$/.test(value) ? BigInt(value) : value;
    case "float":
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$/.test(value) ? Number(value.slice(0, -1)) : value;
    case "double":
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value) ? Number(value) : value;
    case "long":
      return /^-?\d+[lL]$/.test(value) ? BigInt(value.slice(0, -1)) : value;
    case "boolean":
      return value === "true" || value === "false" ? value === "true" : value;
    case "char": case "String": case "any":
      return value; // upstream's char pattern can never match, so a char stays the raw string
    case "Array":
      return parseJavaArray(value, nested);
    case "ArrayList":
      return parseArrayList(value, nested);
    case "HashMap":
      return parseHashMap(value);
    default:
      throw new Error(`Java type "${type}" is not supported by the checker`);
  }
}

// ---------------------------------------------------------------- JavaScript

function parseJsValue(raw: string): PyValue {
  const s = raw.trim();
  if (s === "true" || s === "false") return s === "true";
  if (isQuoted(s)) return unquote(s);
  return pyInt(s) ?? pyFloat(s) ?? s;
}

const stripQuotes = (s: string) => s.replace(/^['"]+|['"]+$/g, "");

function parseJsArray(code: string, nested: string | undefined): PyValue {
  const twoD = /^(?:\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\))/.exec(code);
  if (twoD) {
    return [...twoD[0].matchAll(/\[(.*?)\]/g)].map((m, i) => {
      const inner = m[1].trim();
      return (i === 0 && inner.startsWith("[") ? inner.slice(1) : inner).split(",").map((e) => parseJsValue(e.trim()));
    });
  }
  const m = /^(?:\[(.*?)\]|\bnew\s+Array\((.*?)\))/.exec(code);
  if (!m) return code;
  const body = (m[1] ?? m[2] ?? "").trim();
  const elements = body === "" ? [] : body.split(",");
  try {
    return elements.map((e) => (nested ? jsConvert(e.trim(), nested, /^['"]/.test(e.trim()) ? "String" : undefined) : parseJsValue(e)));
  } catch {
    return code; // upstream returns the raw code when an element's type is not supported
  }
}

function parseJsDict(code: string): PyValue {
  if (code === "{}") return Object.create(null);
  const m = /^\{(.*?)\}/.exec(code);
  if (!m) return code;
  const out: PyDict = Object.create(null);
  for (const pair of m[1].matchAll(/([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)/g)) {
    const key = stripQuotes(pair[1].trim());
    const value = pair[2].trim();
    if (value.startsWith("[") && value.endsWith("]")) out[key] = parseJsArray(value, undefined);
    else if (value.startsWith("{") && value.endsWith("}")) out[key] = parseJsDict(value);
    else out[key] = parseJsValue(stripQuotes(value));
  }
  return out;
}

/** A JavaScript argument string read as its declared type. @throws Error for an unsupported type. */
export function jsConvert(value: string, type: string, nested?: string): PyValue {
  switch (type) {
    case "String":
      return isQuoted(value) ? unquote(value) : value;
    case "integer":
      return /^-?\d+$/.test(value) ? BigInt(value) : value;
    case "float":
      return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    case "Bigint":
      return /^-?\d+n$/.test(value) ? BigInt(value.slice(0, -1)) : value;
    case "Boolean":
      return value === "true" || value === "false" ? value === "true" : value;
    case "dict":
      return parseJsDict(value.trim());
    case "array":
      return parseJsArray(value.trim(), nested);
    case "any":
      return value;
    default:
      throw new Error(`JavaScript type "${type}" is not supported by the checker`);
  }
}
