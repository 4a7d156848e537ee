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

export function routesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(routerConfigSchema(), {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  allowDocumentationKeys(schema);
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
