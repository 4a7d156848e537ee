// What an unknown key in the routes file was probably meant to be: the keys the schema accepts at that place, and
// the one closest in spelling ("sortby" -> "sortBy", "wieght" -> "weight"). Read from the zod schema itself, so the
// suggestions follow every change of the schema.
import type { z } from "zod";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema without its optional/default/pipe/lazy wrappers; unions and intersections as their object parts. */
function objectsOf(schema: z.ZodType | undefined, depth = 0): z.ZodType[] {
  if (!schema || depth > 20) return [];
  const def = defOf(schema);
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner) return objectsOf(inner, depth + 1);
  if (def.options) return def.options.flatMap((option) => objectsOf(option, depth + 1));
  if (def.left && def.right) return [...objectsOf(def.left, depth + 1), ...objectsOf(def.right, depth + 1)];
  return [schema];
}

/** The keys an object accepts at `path` inside `schema` (every option's keys where a union allows several shapes). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes = objectsOf(schema);
  for (const segment of path) {
    nodes = nodes.flatMap((node) => {
      const def = defOf(node);
      if (def.type === "object") return objectsOf(def.shape?.[String(segment)]);
      if (def.type === "record") return objectsOf(def.valueType);
      if (def.type === "array") return objectsOf(def.element);
      return [];
    });
  }
  const keys = new Set<string>();
  for (const node of nodes) {
    const def = defOf(node);
    if (def.type === "object") for (const key of Object.keys(def.shape ?? {})) keys.add(key);
  }
  return [...keys];
}

/** The known key closest to `key` in spelling, if one is close enough to be a typo of it (case ignored). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  const allowed = Math.max(1, Math.floor(key.length / 4));
  return best && best.distance <= allowed ? best.key : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit ("wieght" / "weight"). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
