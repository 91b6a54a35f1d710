/**
 * Invariant checks for module entry points (shapes, group sizes). A failed assert is a bug in
 * trirl, not a user error: boundary validation throws its own descriptive errors instead.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new Error(typeof message === "string" ? message : message());
}

/** Throws an Error with `message`; usable in expressions: `map.get(k) ?? fail("…")`. */
export function fail(message: string): never {
  throw new Error(message);
}
