// Pure: the text of a routes file in, `{config, issues}` out. Never throws (DESIGN.md rule 8).
// Unknown keys are reported as warnings and dropped; anything else invalid makes the whole file invalid so the
// caller keeps its last good config.
import type { z } from "zod";
import { formatPath, type ConfigIssue } from "./issues.ts";
import { migrateConfig } from "./migrate.ts";
import { routerConfigSchema, type RouterConfig } from "./schema.ts";

export interface ParsedConfig {
  /** Undefined when the file is invalid (an `error` issue explains why). */
  config?: RouterConfig;
  issues: ConfigIssue[];
}

function deleteAt(root: unknown, path: ReadonlyArray<PropertyKey>, keys: string[]): void {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return;
    node = (node as Record<PropertyKey, unknown>)[segment as string];
  }
  if (node && typeof node === "object") for (const key of keys) delete (node as Record<string, unknown>)[key];
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  // zod's messages already say what was expected ("Invalid input: expected number, received string").
  return issue.message;
}

/** Cross-field checks the schema cannot express: references between routes, aliases, tiers, rules. */
function checkReferences(config: RouterConfig, issues: ConfigIssue[]): void {
  const routeIds = new Set(Object.keys(config.routes));
  if (routeIds.size === 0) issues.push({ severity: "error", path: "routes", message: "expected at least one route" });
  if (config.defaultRoute && !routeIds.has(config.defaultRoute)) {
    issues.push({ severity: "error", path: "defaultRoute", message: `"${config.defaultRoute}" is not a route id (known: ${[...routeIds].join(", ")})` });
  }
  for (const [tier, settings] of Object.entries(config.tiers ?? {})) {
    if (settings?.route && !routeIds.has(settings.route)) {
      issues.push({ severity: "warning", path: `tiers.${tier}.route`, message: `"${settings.route}" is not a route id; the tier uses the active route` });
    }
  }
  for (const [alias, target] of Object.entries(config.aliases ?? {})) {
    if (!routeIds.has(target) && !target.includes("/")) {
      issues.push({ severity: "warning", path: `aliases.${alias}`, message: `"${target}" is neither a route id nor provider/model` });
    }
  }
  const checkRules = (rules: RouterConfig["policyRules"], path: string, global: boolean) => {
    const priorities = new Map<number, string>();
    (rules ?? []).forEach((rule, index) => {
      const rulePath = `${path}[${index}]`;
      const needs: Record<string, keyof typeof rule> = {
        "force-tier": "tier", "prefer-provider": "providers", "exclude-provider": "providers",
        "require-provider": "providers", "force-billing": "billing", "force-constraint": "constraint",
      };
      const field = needs[rule.type];
      if (field && rule[field] === undefined) {
        issues.push({ severity: "error", path: rulePath, message: `a ${rule.type} rule needs \`${String(field)}\`` });
      }
      if (!global && rule.routes) {
        issues.push({ severity: "warning", path: `${rulePath}.routes`, message: "only global rules take `routes`; a route's own rules apply to that route" });
      }
      for (const route of rule.routes ?? []) {
        if (!routeIds.has(route)) issues.push({ severity: "warning", path: `${rulePath}.routes`, message: `"${route}" is not a route id` });
      }
      const priority = rule.priority ?? 0;
      const other = priorities.get(priority);
      if (other !== undefined && priority !== 0) {
        issues.push({ severity: "warning", path: `${rulePath}.priority`, message: `same priority ${priority} as ${other}; declared order breaks the tie` });
      }
      priorities.set(priority, rulePath);
    });
  };
  checkRules(config.policyRules, "policyRules", true);
  for (const [id, route] of Object.entries(config.routes)) checkRules(route.policyRules, `routes.${id}.policyRules`, false);
}

export function parseConfigValue(raw: unknown): ParsedConfig {
  const issues: ConfigIssue[] = [];
  const migrated = migrateConfig(raw, issues);
  if (issues.some((i) => i.severity === "error")) return { issues };
  let result = routerConfigSchema.safeParse(migrated);
  if (!result.success) {
    const unknownKeys = result.error.issues.filter((i) => i.code === "unrecognized_keys");
    for (const issue of unknownKeys) {
      for (const key of (issue as { keys: string[] }).keys) {
        issues.push({ severity: "warning", path: formatPath([...issue.path, key]), message: "unknown key (ignored); check its spelling and placement" });
      }
      deleteAt(migrated, issue.path, (issue as { keys: string[] }).keys);
    }
    if (unknownKeys.length > 0) result = routerConfigSchema.safeParse(migrated);
  }
  if (!result.success) {
    for (const issue of result.error.issues) {
      issues.push({ severity: "error", path: formatPath(issue.path), message: describeZodIssue(issue) });
    }
    return { issues };
  }
  checkReferences(result.data, issues);
  if (issues.some((i) => i.severity === "error")) return { issues };
  return { config: result.data, issues };
}

export function parseConfigText(text: string): ParsedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { issues: [{ severity: "error", path: "", message: `not valid JSON: ${(error as Error).message}` }] };
  }
  return parseConfigValue(raw);
}
