// Salvage for the stores whose state is an object of keyed records (`{v: 1, entries: {key: {...}}}`): when one field
// of one entry has the wrong type, the store keeps every other entry (and every other field) instead of starting
// over. The JSON store still moves the damaged file aside and warns once; this only decides what it continues from.
import type { z } from "zod";
import { isObject } from "../is-object.ts";

type AnySchema = z.ZodType & {
  _zod: {
    def: {
      type: string;
      innerType?: AnySchema;
      valueType?: AnySchema;
      element?: AnySchema;
      shape?: Record<string, AnySchema>;
    };
  };
};

/** The record inside an optional/default wrapper, if the field is one. */
function recordValues(field: AnySchema): AnySchema | undefined {
  const def = field._zod.def;
  if (def.type === "record") return def.valueType;
  if ((def.type === "optional" || def.type === "default" || def.type === "nullable") && def.innerType)
    return recordValues(def.innerType);
  return undefined;
}

/** The element schema of an array field (inside an optional/default wrapper). */
function arrayElement(field: AnySchema): AnySchema | undefined {
  const def = field._zod.def;
  if (def.type === "array") return def.element;
  if ((def.type === "optional" || def.type === "default" || def.type === "nullable") && def.innerType)
    return arrayElement(def.innerType);
  return undefined;
}

/**
 * A salvage function for `schema`: each top-level field that parses is kept; a record field keeps the entries that
 * parse and drops the others (an array field likewise); any other unreadable field takes its default. Throws when even that does not parse
 * (the store then starts from its defaults).
 */
export function salvageRecords<T>(
  schemaOrGetter: z.ZodType<T> | (() => z.ZodType<T>),
  defaults: () => T,
): (raw: unknown) => T {
  return (raw) => {
    // A getter (src/lazy.ts) is called only here: a store that is never damaged never builds its schema.
    const schema = typeof schemaOrGetter === "function" ? schemaOrGetter() : schemaOrGetter;
    const shape = (schema as unknown as AnySchema)._zod.def.shape;
    if (!shape || !isObject(raw)) throw new Error("not an object of fields");
    const fallback = defaults() as Record<string, unknown>;
    // The fields a newer version added (unknown-fields.ts) stay as they were, in a file of this store's shape (one
    // holding none of its fields is another file, whose keys are not carried over).
    const ours = Object.keys(raw).some((key) => Object.hasOwn(shape, key));
    const kept: Record<string, unknown> = ours ? { ...raw } : {};
    for (const [key, field] of Object.entries(shape)) {
      const whole = field.safeParse(raw[key]);
      if (whole.success) {
        if (whole.data !== undefined) kept[key] = whole.data;
        continue;
      }
      const values = recordValues(field);
      const value = raw[key];
      if (values && isObject(value)) {
        kept[key] = Object.fromEntries(
          Object.entries(value).flatMap(([entryKey, entry]) => {
            const parsed = values.safeParse(entry);
            return parsed.success ? [[entryKey, parsed.data]] : [];
          }),
        );
      } else if (arrayElement(field) && Array.isArray(value)) {
        const element = arrayElement(field)!;
        kept[key] = value.flatMap((item) => {
          const parsed = element.safeParse(item);
          return parsed.success ? [parsed.data] : [];
        });
      } else if (fallback[key] !== undefined) {
        kept[key] = fallback[key];
      } else {
        delete kept[key];
      }
    }
    return schema.parse(kept);
  };
}
