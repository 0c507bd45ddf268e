// What the records form makes of the text typed in its Value box.

/** `[digits without leading/trailing zeros, exponent of the first digit]` of a decimal literal, or null for zero. */
function decimal(lit: string): [string, number] | null {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lit);
  if (m === null) return null;
  const [int, frac = '', exp = '0'] = [m[1], m[2], m[3]];
  const all = int + frac;
  const lead = all.search(/[1-9]/);
  if (lead === -1) return null;
  const digits = all.slice(lead).replace(/0+$/, '');
  return [digits, int.length - lead - 1 + Number(exp)];
}

/** A JSON number literal that parses to a double printing the same decimal number (no digit lost or changed). */
export function exactNumber(lit: string): boolean {
  const n = Number(lit);
  if (!Number.isFinite(n)) return false;
  const a = decimal(lit);
  const b = decimal(String(Math.abs(n)));
  return a === null || b === null ? a === b : a[0] === b[0] && a[1] === b[1];
}

/** The number literals of a JSON text, outside its strings. */
function numberLiterals(text: string): string[] {
  const found: string[] = [];
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (const m of text.matchAll(token)) if (m[0][0] !== '"') found.push(m[0]);
  return found;
}

/**
 * The value a typed text stands for: JSON when it parses (42, true, null, {"a":1}, "quoted") and
 * every number in it is kept exactly by a double, otherwise the text itself (so
 * 12345678901234567890, 1e999, 0.30000000000000000001 or {"id":12345678901234567890} are kept as
 * typed, not changed silently).
 */
export function parseValueText(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return numberLiterals(text).every(exactNumber) ? parsed : text;
}
