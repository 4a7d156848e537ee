// Schema pieces the three client APIs share. A tool's input schema as they carry it (Chat's function.parameters,
// Messages' input_schema, Responses' parameters) is a JSON Schema object. Anything else is refused with the path that
// holds it, not sent on as it is (an OpenAI target refuses it after the commit to that target) or turned into a tool
// without arguments (an Anthropic target). Sampling settings are refused outside the range the client's own API takes,
// not sent on to a target of another API that might take them (Anthropic's temperature stops at 1, OpenAI's at 2).
import { z } from "zod";

const SCHEMA_OBJECT = 'expected a JSON Schema object ({"type": "object", ...})';

export const toolSchemaObject = () => z.record(z.string(), z.unknown(), { error: SCHEMA_OBJECT });

/** Messages' `input_schema`, which Anthropic's API takes only with `"type": "object"` at its top. */
export const objectToolSchema = () =>
  toolSchemaObject().superRefine((schema, context) => {
    if (schema.type === "object") return;
    context.addIssue({
      code: "custom",
      path: ["type"],
      message: `expected "object" (got ${JSON.stringify(schema.type) ?? "none"}): ${SCHEMA_OBJECT.slice("expected ".length)}`,
    });
  });

/**
 * Chat's `function.parameters` and Responses' `parameters`: OpenAI takes a schema without a `type` (no arguments) and
 * refuses any other top-level type than "object"; a translation would turn one into a tool without arguments.
 */
export const openAIToolSchema = () =>
  toolSchemaObject().superRefine((schema, context) => {
    if (schema.type === undefined || schema.type === "object") return;
    context.addIssue({
      code: "custom",
      path: ["type"],
      message: `expected "object" (got ${JSON.stringify(schema.type)}): a function's parameters are ${SCHEMA_OBJECT.slice("expected ".length)}`,
    });
  });

/** A number from `min` to `max`, both included; anything else (a string, say) is refused with the range. */
export const numberBetween = (min: number, max: number) => {
  const error = `expected a number from ${min} to ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
};

/** An integer from `min` to `max`, both included. */
export const integerBetween = (min: number, max: number) => {
  const error = `expected an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

export const shapeName = (value: unknown): string =>
  Array.isArray(value)
    ? "an array"
    : value === null
      ? "null"
      : typeof value === "object"
        ? "an object"
        : `a ${typeof value}`;

/**
 * A message's `content` (or Messages' `system`): a string or an array of typed blocks (`nullable`: Chat's may be null).
 * zod's own word for a union no option of which matched is "Invalid input", which says neither what the field takes nor
 * which part of the value is wrong: this says both, `expected a string or an array of content blocks, got a number`, or
 * for an array the first item that is no block (`item 1 is a string, not an object with a string "type"`).
 */
export const stringOrBlocks = (blocks: string, options: { nullable?: boolean } = {}) => {
  const block = z.looseObject({ type: z.string() });
  const expected = `expected a string${options.nullable ? ", null" : ""} or an array of ${blocks}`;
  const error = (issue: { input?: unknown }): string => {
    const { input } = issue;
    // Worded as every other required key the client left out (zod-issue-text.ts), not "got a undefined".
    if (input === undefined) return `missing: this key is required (${expected.slice("expected ".length)})`;
    if (!Array.isArray(input)) return `${expected}, got ${shapeName(input)}`;
    const index = input.findIndex((item) => !block.safeParse(item).success);
    const item: unknown = input[index];
    const what =
      typeof item === "object" && item !== null && !Array.isArray(item)
        ? `an object without a string "type"`
        : shapeName(item);
    return `${expected} (objects with a string "type"): item ${index} is ${what}`;
  };
  return options.nullable
    ? z.union([z.string(), z.array(block), z.null()], { error })
    : z.union([z.string(), z.array(block)], { error });
};

/**
 * An optional field that may also be sent as null, read as absent: OpenAI's API takes null for an optional field (the
 * Python client sends `tools=None` as `"tools": null`, and an assistant message it returned as `"tool_calls": null`).
 */
export const orNull = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value): z.output<T> | undefined => value ?? undefined);
