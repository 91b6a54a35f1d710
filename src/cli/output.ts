/** Shared CLI output helpers: machine-readable JSON goes to stdout, progress to stderr. */

/** Writes one JSON value followed by a newline to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Parses a CLI integer option, naming the option when the value is bad. */
export function parseIntOption(name: string, min = 0) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer ≥ ${min}, got "${raw}"`);
    return n;
  };
}

/** Parses a CLI float option, naming the option when the value is bad. */
export function parseFloatOption(name: string, min = -Infinity) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number ≥ ${min}, got "${raw}"`);
    return n;
  };
}
