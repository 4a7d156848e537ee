// The JSON Schema of auto-router.routes.json, generated from the zod schema (one schema: DESIGN.md rule 8).
// `npm run schema` writes it to auto-router.routes.schema.json; a test keeps the checked-in file in sync.
import { z } from "zod";
import { routerConfigSchema } from "./schema.ts";

export const SCHEMA_FILE_NAME = "auto-router.routes.schema.json";

/** Strict objects reject unknown keys; `_comment*`/`_example*` documentation keys stay allowed everywhere. */
function allowDocumentationKeys(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(allowDocumentationKeys);
  if (!node || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  if (record.additionalProperties === false) {
    record.patternProperties = { ...(record.patternProperties as object), "^_(comment|example)": {} };
  }
  for (const value of Object.values(record)) allowDocumentationKeys(value);
}

interface ZodCheck {
  _zod: { def: { pattern?: unknown } };
}

/**
 * JSON Schema patterns have no flags, and zod exports a regex's source without its flags: a route id pattern with
 * `i` became one that rejects capitals the router accepts. Such a regex is refused here rather than exported wrong.
 */
function refuseRegexFlags(context: { zodSchema: unknown; path: ReadonlyArray<string | number> }): void {
  const checks = (context.zodSchema as { _zod: { def: { checks?: ZodCheck[] } } })._zod.def.checks ?? [];
  for (const check of checks) {
    const pattern = check._zod.def.pattern;
    if (pattern instanceof RegExp && pattern.flags)
      throw new Error(
        `${context.path.join(".")}: the regex ${pattern} has flags, which JSON Schema cannot express; write it without them`,
      );
  }
}

export function routesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(routerConfigSchema(), {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    override: refuseRegexFlags,
  }) as Record<string, unknown>;
  allowDocumentationKeys(schema);
  // A file without `routes` is valid: it adds its settings to the built-in routes (parse-config.ts).
  delete schema.required;
  return {
    ...schema,
    $id: "https://github.com/pi-auto-router/pi-auto-router/auto-router.routes.schema.json",
    title: "pi-auto-router routes file",
    description:
      "Routes, targets, policy rules, budgets and failover settings of pi-auto-router. Keys starting with _comment or _example are ignored.",
  };
}

export function routesJsonSchemaText(): string {
  return `${JSON.stringify(routesJsonSchema(), null, 2)}\n`;
}
