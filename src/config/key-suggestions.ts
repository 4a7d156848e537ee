// What an unknown key in the routes file was probably meant to be: the keys the schema accepts at that place, and
// the one closest in spelling ("sortby" -> "sortBy", "wieght" -> "weight"). Read from the zod schema itself, so the
// suggestions follow every change of the schema.
import type { z } from "zod";
import { closestWord } from "./spelling.ts";

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
  keyType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
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

/** The keys a record keyed by an enum (`failover.kinds`, `tiers`) accepts; none for one keyed by any string. */
function recordKeys(keyType: z.ZodType | undefined): string[] {
  return objectsOf(keyType).flatMap((node) => {
    const def = defOf(node);
    if (def.type === "enum") return Object.values(def.entries ?? {}).map(String);
    if (def.type === "literal") return (def.values ?? []).map(String);
    return [];
  });
}

/**
 * The keys an object accepts at `path` inside `schema` (every option's keys where a union allows several shapes), or
 * a record's when its keys are a fixed set.
 */
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
    if (def.type === "record") for (const key of recordKeys(def.keyType)) keys.add(key);
  }
  return [...keys];
}

/** The known key closest to `key` in spelling, if one is close enough to be a typo of it (case ignored). */
export const closestKey = (key: string, known: readonly string[]): string | undefined =>
  closestWord(key, known, Math.max(1, Math.floor(key.length / 4)));
