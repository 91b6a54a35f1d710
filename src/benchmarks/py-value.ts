/**
 * Python values in TypeScript, for scorers that must reproduce Python's semantics: a JSON parser
 * that keeps the int / float distinction JSON.parse loses (`5` is int, `5.0` is float, as
 * `json.loads` reads them), Python `==` (`1 == 1.0`, `True == 1`), `json.dumps` with its default
 * separators and ASCII escaping, and a short `repr` for error messages.
 * Ints are `bigint`, floats `number`, dicts plain null-prototype objects. Not covered: tuples,
 * sets, NaN/Infinity literals (json.loads accepts them; no benchmark file holds one).
 */

export type PyValue = null | boolean | bigint | number | string | PyValue[] | PyDict;
export type PyDict = { [key: string]: PyValue };

export type PyParse = { ok: true; value: PyValue } | { ok: false; error: string };

const MAX_DEPTH = 64;

export const isPyDict = (v: PyValue): v is PyDict => v !== null && typeof v === "object" && !Array.isArray(v);

/** Python's `type(v).__name__`. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "string") return "str";
  return Array.isArray(v) ? "list" : "dict";
}

/** The numeric value of a bool / int / float (Python compares them by value), else undefined. */
const numeric = (v: PyValue): number | undefined =>
  typeof v === "boolean" || typeof v === "bigint" || typeof v === "number" ? Number(v) : undefined;

/** Python `a == b` for JSON-born values: bools and numbers compare by value, containers deeply. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (typeof a === "bigint" && typeof b === "bigint") return a === b;
  const [x, y] = [numeric(a), numeric(b)];
  if (x !== undefined || y !== undefined) return x === y;
  if (a === null || b === null || typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
  const [da, db] = [a as PyDict, b as PyDict];
  const keys = Object.keys(da);
  return keys.length === Object.keys(db).length && keys.every((k) => Object.hasOwn(db, k) && pyEquals(da[k], db[k]));
}

/** Python `value in options`. */
export const pyIn = (value: PyValue, options: readonly PyValue[]): boolean => options.some((o) => pyEquals(value, o));

/** Parses JSON text as `json.loads` would type it. Never throws. */
export function parsePyJson(text: string): PyParse {
  const p = { text, at: 0 };
  try {
    const value = readValue(p, 0);
    skipSpace(p);
    if (p.at !== text.length) return { ok: false, error: `unexpected text at offset ${p.at}` };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

type Cursor = { text: string; at: number };

function skipSpace(p: Cursor): void {
  while (p.at < p.text.length && " \t\n\r".includes(p.text[p.at])) p.at++;
}

function readValue(p: Cursor, depth: number): PyValue {
  if (depth > MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH} levels`);
  skipSpace(p);
  const c = p.text[p.at];
  if (c === "{") return readObject(p, depth);
  if (c === "[") return readArray(p, depth);
  if (c === '"') return readString(p);
  for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
    if (p.text.startsWith(word, p.at)) {
      p.at += word.length;
      return value;
    }
  }
  return readNumber(p);
}

function readObject(p: Cursor, depth: number): PyDict {
  const out: PyDict = Object.create(null);
  p.at++;
  skipSpace(p);
  if (p.text[p.at] === "}") return (p.at++, out);
  for (;;) {
    skipSpace(p);
    if (p.text[p.at] !== '"') throw new Error(`expected a string key at offset ${p.at}`);
    const key = readString(p);
    skipSpace(p);
    if (p.text[p.at] !== ":") throw new Error(`expected ':' at offset ${p.at}`);
    p.at++;
    out[key] = readValue(p, depth + 1);
    skipSpace(p);
    const c = p.text[p.at++];
    if (c === "}") return out;
    if (c !== ",") throw new Error(`expected ',' or '}' at offset ${p.at - 1}`);
  }
}

function readArray(p: Cursor, depth: number): PyValue[] {
  const out: PyValue[] = [];
  p.at++;
  skipSpace(p);
  if (p.text[p.at] === "]") return (p.at++, out);
  for (;;) {
    out.push(readValue(p, depth + 1));
    skipSpace(p);
    const c = p.text[p.at++];
    if (c === "]") return out;
    if (c !== ",") throw new Error(`expected ',' or ']' at offset ${p.at - 1}`);
  }
}

const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER_RE = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

function readString(p: Cursor): string {
  STRING_RE.lastIndex = p.at;
  const m = STRING_RE.exec(p.text);
  if (m === null) throw new Error(`bad string at offset ${p.at}`);
  p.at += m[0].length;
  return JSON.parse(m[0]) as string;
}

function readNumber(p: Cursor): bigint | number {
  NUMBER_RE.lastIndex = p.at;
  const m = NUMBER_RE.exec(p.text);
  if (m === null) throw new Error(`unexpected ${p.at < p.text.length ? `'${p.text[p.at]}'` : "end of text"} at offset ${p.at}`);
  p.at += m[0].length;
  return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
}

/**
 * Python `json.dumps(v)`: separators ", " and ": ", non-ASCII escaped as \uXXXX unless
 * `ensureAscii` is false (then characters are kept, as `ensure_ascii=False` writes them).
 */
export function pyJsonDumps(v: PyValue, ensureAscii = true): string {
  const dump = (x: PyValue) => pyJsonDumps(x, ensureAscii);
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isInteger(v) ? v.toFixed(1) : String(v);
  if (typeof v === "string") {
    const json = JSON.stringify(v);
    return ensureAscii ? json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : json;
  }
  if (Array.isArray(v)) return `[${v.map(dump).join(", ")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${dump(k)}: ${dump(x)}`).join(", ")}}`;
}

/** A short Python-like `repr`, for error messages only. */
export function pyRepr(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return `'${v.length > 60 ? `${v.slice(0, 60)}…` : v}'`;
  if (typeof v === "bigint" || typeof v === "number") return pyJsonDumps(v);
  if (Array.isArray(v)) return `[${v.slice(0, 8).map(pyRepr).join(", ")}${v.length > 8 ? ", …" : ""}]`;
  return `{${Object.entries(v).slice(0, 8).map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(", ")}}`;
}

/** A JSON-parsed value (numbers all JS numbers) read as Python would have read its text. */
export function fromJson(v: unknown): PyValue {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === "object") {
    const out: PyDict = Object.create(null);
    for (const [k, x] of Object.entries(v)) out[k] = fromJson(x);
    return out;
  }
  return v as PyValue;
}
