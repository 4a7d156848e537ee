// Pure: the text of a routes file in, `{config, issues}` out. Never throws (DESIGN.md rule 8).
// Unknown keys are reported as warnings and dropped; anything else invalid makes the whole file invalid so the
// caller keeps its last good config.
import { parseTree, type Node } from "jsonc-parser";
import type { z } from "zod";
import { aliasCandidates, namesRoute, ROUTER_PROVIDER, routeIdOf } from "./alias-names.ts";
import { checkContradictions } from "./contradictions.ts";
import { closestKey, keysAt } from "./key-suggestions.ts";
import { duplicateKeyIssues } from "./duplicate-keys.ts";
import { formatPath, type ConfigIssue } from "./issues.ts";
import { describeIssue, type IssueText } from "./zod-issue-text.ts";
import { jsonSyntaxIssue, lineAndColumn } from "./json-syntax.ts";
import { migrateConfig } from "./migrate.ts";
import { withoutByteOrderMark } from "../state/json-text.ts";
import { sourceMessageOf, sourcePathOf, type SourcePaths } from "./source-paths.ts";
import { RULE_FIELD_TYPES, RULE_NEEDS } from "./routing-schema.ts";
import { defaultConfig, type KnowsModel } from "./defaults.ts";
import { isObject } from "../is-object.ts";
import { ownRecord } from "../own-record.ts";
import { dailyAboveMonthly } from "./silent-strategies.ts";
import { routerConfigSchema, type RouterConfig } from "./schema.ts";
import { accountOf } from "../routing/types.ts";

export interface ParsedConfig {
  /** Undefined when the file is invalid (an `error` issue explains why). */
  config?: RouterConfig;
  issues: ConfigIssue[];
  /** Line and column of a path inside the text (e.g. `policyRules[0].providers[1]`), for warnings made later. */
  locate?: (path: string) => { line: number; column: number } | undefined;
  /** The file has no `routes`: the built-in routes serve with its other settings (withBuiltInRoutes). */
  builtInRoutes?: true;
}

function deleteAt(root: unknown, path: ReadonlyArray<PropertyKey>, keys: string[]): void {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return;
    node = (node as Record<PropertyKey, unknown>)[segment as string];
  }
  if (node && typeof node === "object") for (const key of keys) delete (node as Record<string, unknown>)[key];
}

function unknownKeyText(key: string, known: string[]): string {
  const near = closestKey(key, known);
  if (near) return `unknown key (ignored); did you mean "${near}"?`;
  const listed = known.filter((name) => !name.startsWith("_"));
  return listed.length > 0
    ? `unknown key (ignored); check its spelling and placement (known here: ${listed.join(", ")})`
    : "unknown key (ignored); check its spelling and placement";
}

function describeZodIssue(issue: z.core.$ZodIssue): IssueText[] {
  // zod's "Invalid key in record" does not say what a key may look like; the key schema's own messages do.
  if (issue.code === "invalid_key") {
    const key = issue.path.at(-1);
    const reasons = issue.issues.map((inner) => inner.message).join("; ");
    return [{ path: [], message: `invalid key ${JSON.stringify(String(key))}: ${reasons}` }];
  }
  // zod's other messages already say what was expected, but for values outside a fixed set, unions and numbers written
  // as text.
  return describeIssue(issue);
}

/** Cross-field checks the schema cannot express: references between routes, aliases, tiers, rules. */
function checkReferences(config: RouterConfig, issues: ConfigIssue[]): void {
  const routeIds = new Set(Object.keys(config.routes));
  if (routeIds.size === 0) issues.push({ severity: "error", path: "routes", message: "expected at least one route" });
  for (const [id, route] of Object.entries(config.routes)) {
    const seen = new Map<string, number>();
    route.targets.forEach((target, index) => {
      const key = `${target.provider}/${target.modelId}`;
      const first = seen.get(key);
      if (first === undefined) return void seen.set(key, index);
      issues.push({
        severity: "warning",
        path: `routes.${id}.targets[${index}]`,
        message: `"${key}" is also targets[${first}]: a route's targets are told apart by provider/model, so the two share one cooldown, breaker and place in explain, and a request tries them once; remove one`,
      });
    });
  }
  // Accepted (example files and other tools write it) but read by nothing: where pi starts is pi's own setting.
  if (config.defaultRoute !== undefined) {
    const route = routeIds.has(config.defaultRoute) ? config.defaultRoute : "<route>";
    issues.push({
      severity: "warning",
      path: "defaultRoute",
      message: `has no effect: pi starts on the model its settings.json names; to start on a route, set "defaultProvider": "auto-router" and "defaultModel": "${route}" there (or pick auto-router/${route} in /model), and remove this key`,
    });
  }
  for (const [tier, settings] of Object.entries(config.tiers ?? {})) {
    if (settings?.route && !routeIds.has(settings.route)) {
      issues.push({
        severity: "warning",
        path: `tiers.${tier}.route`,
        message: `"${settings.route}" is not a route id; the tier uses the active route`,
      });
    }
  }
  for (const [alias, value] of Object.entries(config.aliases ?? {})) {
    // Names are looked up as aliases first: the route of the same id is then reachable only as auto-router/<id>.
    if (routeIds.has(alias) && !aliasCandidates(value).every((target) => routeIdOf(target) === alias))
      issues.push({
        severity: "warning",
        path: `aliases.${alias}`,
        message: `"${alias}" is also a route id: the name "${alias}" (in /auto-router switch, show and resolve, and as a gateway model) means this alias, so route ${alias} is reachable only as ${ROUTER_PROVIDER}/${alias}; rename the alias`,
      });
    aliasCandidates(value).forEach((target, index) => {
      const path = Array.isArray(value) ? `aliases.${alias}[${index}]` : `aliases.${alias}`;
      // provider/model names are checked against what pi knows (unknown-targets.ts), which this pure parse cannot.
      const meant = (name: string, prefix = "") => {
        const near = closestKey(name, [...routeIds]);
        return near ? `; did you mean "${prefix}${near}"?` : ` (routes: ${[...routeIds].join(", ")})`;
      };
      if (target.startsWith(`${ROUTER_PROVIDER}/`) && !namesRoute(target, config))
        issues.push({
          severity: "warning",
          path,
          message: `"${target}" is not a route${meant(target.slice(ROUTER_PROVIDER.length + 1), `${ROUTER_PROVIDER}/`)}`,
        });
      if (routeIds.has(target) || target.includes("/")) return;
      issues.push({
        severity: "warning",
        path,
        message: `"${target}" is neither a route id nor provider/model${meant(target)}`,
      });
    });
  }
  for (const [name, value] of Object.entries(config.gateway?.models ?? {})) {
    // The mapping is looked up first: a name that is also a route or an alias no longer reaches it.
    const hidden = namesRoute(name, config)
      ? `the route ${ROUTER_PROVIDER}/${routeIdOf(name)}`
      : config.aliases?.[name] !== undefined
        ? `the alias "${name}"`
        : undefined;
    if (hidden && !(namesRoute(value, config) && routeIdOf(value) === routeIdOf(name)) && value !== name)
      issues.push({
        severity: "warning",
        path: `gateway.models.${name}`,
        message: `"${name}" is also ${hidden}, which gateway clients can no longer reach by that name: they get "${value}" instead (map another name, or remove this entry)`,
      });
    if (namesRoute(value, config) || config.aliases?.[value] !== undefined) continue;
    const prefix = `${ROUTER_PROVIDER}/`;
    if (!value.startsWith(prefix) && value.includes("/")) continue; // provider/model: checked when used
    const near = closestKey(value.startsWith(prefix) ? value.slice(prefix.length) : value, [...routeIds]);
    issues.push({
      severity: "warning",
      path: `gateway.models.${name}`,
      message: `"${value}" is not a route or alias${near ? `; did you mean "${prefix}${near}"?` : ` (routes: ${[...routeIds].join(", ")})`}`,
    });
  }
  // Milliseconds: `5` meant as minutes would have the usage APIs read every second (the poll's floor).
  const ttlMs = config.uvi?.ttlMs;
  if (ttlMs !== undefined && ttlMs < 1_000)
    issues.push({
      severity: "warning",
      path: "uvi.ttlMs",
      message: `${ttlMs} is milliseconds: the usage APIs would be read every second (the shortest interval); the default is 300000 (5 minutes)`,
    });
  for (const [provider, limits] of Object.entries(config.budgets?.providers ?? {})) {
    const neverBlocks = dailyAboveMonthly(limits);
    if (neverBlocks)
      issues.push({ severity: "warning", path: `budgets.providers.${provider}.daily`, message: neverBlocks });
  }
  // Budgets take account names in any case, as their limits do: two spellings are one account's spend and limits.
  const spellings = new Map<string, string>();
  const warned = new Set<string>();
  for (const [id, route] of Object.entries(config.routes))
    route.targets.forEach((target, index) => {
      const account = accountOf(target);
      const first = spellings.get(account.toLowerCase()) ?? account;
      spellings.set(account.toLowerCase(), first);
      if (first === account || warned.has(account)) return;
      warned.add(account);
      issues.push({
        severity: "warning",
        path: `routes.${id}.targets[${index}].${target.authProvider !== undefined ? "authProvider" : "provider"}`,
        message: `"${account}" is the account "${first}" of another target in another case: budgets count both as one account, "${first}" (spell it the same in every target)`,
      });
    });
  // A rule's id (else its name) names it in explain, /auto-router rules and the event log: two rules that apply to one
  // route under the same one cannot be told apart there. A route's rules share the route with the global ones.
  const globalIds = new Map<string, { path: string; field: "id" | "name" }>();
  const checkRules = (rules: RouterConfig["policyRules"], path: string, global: boolean) => {
    const priorities = new Map<number, string>();
    const ids = global ? globalIds : new Map(globalIds);
    (rules ?? []).forEach((rule, index) => {
      const rulePath = `${path}[${index}]`;
      // What names the rule there: its id, else its name (the earlier format's rules have names only).
      const named = rule.id ? "id" : rule.name ? "name" : undefined;
      const shown = named && rule[named];
      if (named && shown) {
        const other = ids.get(shown);
        if (other)
          issues.push({
            severity: "warning",
            path: `${rulePath}.${named}`,
            message: `"${shown}" is also the ${other.field} of ${other.path}; explain, /auto-router rules and the event log cannot tell the two apart`,
          });
        else ids.set(shown, { path: rulePath, field: named });
      }
      const field: keyof typeof rule | undefined = RULE_NEEDS[rule.type as keyof typeof RULE_NEEDS];
      const value = field ? rule[field] : undefined;
      const article = /^[aeiou]/.test(rule.type) ? "an" : "a";
      if (field && value === undefined) {
        issues.push({ severity: "error", path: rulePath, message: `${article} ${rule.type} rule needs \`${field}\`` });
      } else if (Array.isArray(value) && value.length === 0) {
        // An empty list is no list: a require-provider rule with `providers: []` would leave nothing to serve (an
        // error); a prefer- or exclude-provider rule does nothing (a warning: the rest of the file still serves).
        const leavesNothing = rule.type === "require-provider";
        issues.push({
          severity: leavesNothing ? "error" : "warning",
          path: `${rulePath}.${String(field)}`,
          message: `${article} ${rule.type} rule needs at least one of \`${String(field)}\`${leavesNothing ? ": with none it leaves no target" : ": with none it does nothing"}`,
        });
      }
      for (const [name, types] of Object.entries(RULE_FIELD_TYPES)) {
        if (rule[name as keyof typeof rule] === undefined || (types as readonly string[]).includes(rule.type)) continue;
        // `tier` on another rule most often means "on this tier only", which is a condition.
        const instead = name === "tier" ? "; to apply the rule on a tier only, write `when: { tier: ... }`" : "";
        issues.push({
          severity: "warning",
          path: `${rulePath}.${name}`,
          message: `does nothing on ${article} ${rule.type} rule (it is read by ${types.join(", ")} rules)${instead}`,
        });
      }
      if (!global && rule.routes) {
        issues.push({
          severity: "warning",
          path: `${rulePath}.routes`,
          message: "only global rules take `routes`; a route's own rules apply to that route",
        });
      }
      for (const route of rule.routes ?? []) {
        if (!routeIds.has(route))
          issues.push({ severity: "warning", path: `${rulePath}.routes`, message: `"${route}" is not a route id` });
      }
      const priority = rule.priority ?? 0;
      const other = priorities.get(priority);
      if (other !== undefined && priority !== 0) {
        issues.push({
          severity: "warning",
          path: `${rulePath}.priority`,
          message: `same priority ${priority} as ${other}; declared order breaks the tie`,
        });
      }
      priorities.set(priority, rulePath);
    });
  };
  checkRules(config.policyRules, "policyRules", true);
  for (const [id, route] of Object.entries(config.routes)) {
    checkRules(route.policyRules, `routes.${id}.policyRules`, false);
    // The declared order stands on such a route (rank.ts): a preference among its providers changes nothing.
    if (route.sortBy !== "config") continue;
    (route.policyRules ?? []).forEach((rule, index) => {
      if (rule.type === "prefer-provider")
        issues.push({
          severity: "warning",
          path: `routes.${id}.policyRules[${index}]`,
          message: `a prefer-provider rule does nothing on a route with sortBy "config", whose declared order stands: list the provider's targets first, or drop sortBy "config"`,
        });
    });
  }
}

export const parseConfigValue = (raw: unknown): ParsedConfig => parseMigrated(raw).parsed;

/** The parse, and where a path of the migrated config is in the file (source-paths.ts). */
function parseMigrated(
  raw: unknown,
  knowsModel?: KnowsModel,
): { parsed: ParsedConfig; sourcePath: (path: string) => string } {
  const moves: SourcePaths = new Map();
  const sourcePath = (path: string) => sourcePathOf(path, moves);
  const migration: ConfigIssue[] = [];
  const migrated = migrateConfig(raw, migration, moves);
  // The migration's warnings name the file's paths already; every later issue is about the migrated config.
  const checked: ConfigIssue[] = [];
  const parsed = checkMigrated(migrated, migration, checked, sourcePath, knowsModel);
  const issues = [
    ...migration,
    ...checked.map((issue) => ({
      ...issue,
      path: sourcePath(issue.path),
      message: moves.size === 0 ? issue.message : sourceMessageOf(issue.path, issue.message, moves),
    })),
  ];
  return { parsed: { ...parsed, issues }, sourcePath };
}

/**
 * A file of settings alone (budgets, providers, aliases...) adds them to the built-in routes: their routes, and their
 * aliases and tiers beside the file's own (which win on a shared name). A top-level key that looks like a misspelt `routes`
 * keeps the file invalid (its routes are what the user meant). True when the built-in routes were put in.
 */
function withBuiltInRoutes(value: unknown, known: readonly string[], knowsModel?: KnowsModel): boolean {
  if (!isObject(value) || Object.hasOwn(value, "routes")) return false;
  if (Object.keys(value).some((key) => !known.includes(key) && closestKey(key, known) === "routes")) return false;
  const builtIn = defaultConfig(knowsModel);
  value.routes = builtIn.routes;
  // The file's own win on a shared name; a value of the wrong type is left for the schema to refuse.
  if (value.aliases === undefined || isObject(value.aliases)) value.aliases = { ...builtIn.aliases, ...value.aliases };
  if (value.tiers === undefined || isObject(value.tiers)) value.tiers = { ...builtIn.tiers, ...value.tiers };
  return true;
}

function checkMigrated(
  migrated: unknown,
  migration: ConfigIssue[],
  issues: ConfigIssue[],
  sourcePath: (path: string) => string,
  knowsModel?: KnowsModel,
): ParsedConfig {
  if (migration.some((i) => i.severity === "error")) return { issues };
  const schema = routerConfigSchema();
  const builtInRoutes = withBuiltInRoutes(migrated, keysAt(schema, []), knowsModel);
  // reportInput: a message can say what was written ("got \"interactiv\"; did you mean ...").
  let result = schema.safeParse(migrated, { reportInput: true });
  if (!result.success) {
    const unknownKeys = result.error.issues.filter((i) => i.code === "unrecognized_keys");
    for (const issue of unknownKeys) {
      const known = keysAt(schema, issue.path);
      // A rule (it has `when`) also takes the earlier format's `condition`; either mistyped leaves the rule with no
      // condition at all, which the warning says.
      const rule = known.includes("when");
      for (const key of (issue as { keys: string[] }).keys) {
        const text = unknownKeyText(key, rule ? [...known, "condition"] : known);
        const condition = rule && closestKey(key, ["when", "condition"]) !== undefined;
        const always = text.endsWith("?") ? " Without its condition" : "; without its condition";
        issues.push({
          severity: "warning",
          path: formatPath([...issue.path, key]),
          message: condition ? `${text}${always} the rule applies to every request` : text,
        });
      }
      deleteAt(migrated, issue.path, (issue as { keys: string[] }).keys);
    }
    if (unknownKeys.length > 0) result = schema.safeParse(migrated, { reportInput: true });
  }
  if (!result.success) {
    for (const issue of result.error.issues)
      for (const text of describeZodIssue(issue))
        issues.push({ severity: "error", path: formatPath([...issue.path, ...text.path]), message: text.message });
    return { issues };
  }
  checkReferences(result.data, issues);
  checkContradictions(result.data, issues, sourcePath);
  if (issues.some((i) => i.severity === "error")) return { issues };
  return { config: withOwnNames(result.data), issues, ...(builtInRoutes && { builtInRoutes }) };
}

/** The config's records looked up by names from outside (a request's model, a command's word, a shortcut) own only their keys. */
function withOwnNames(config: RouterConfig): RouterConfig {
  config.routes = ownRecord(config.routes);
  if (config.aliases) config.aliases = ownRecord(config.aliases);
  if (config.tiers) config.tiers = ownRecord(config.tiers);
  if (config.gateway?.models) config.gateway.models = ownRecord(config.gateway.models);
  return config;
}

/** `knowsModel`: the running pi's catalogue, for the built-in routes a file without `routes` runs on (defaults.ts). */
export function parseConfigText(fileText: string, knowsModel?: KnowsModel): ParsedConfig {
  // Positions below are in the text without the mark, as an editor counts them.
  const text = withoutByteOrderMark(fileText);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // An empty file (made with `touch`, or saved before anything was written): V8 says only "Unexpected end of JSON
    // input", as for a file cut short.
    if (text.trim() === "")
      return {
        issues: [
          {
            severity: "error",
            path: "",
            message:
              'the file is empty: a routes file is a JSON object with its routes ({ "routes": { ... } }); without a routes file the built-in routes serve',
            line: 1,
            column: 1,
          },
        ],
      };
    return { issues: [jsonSyntaxIssue(text, error)] };
  }
  const tree = parseTree(text);
  const { parsed, sourcePath } = parseMigrated(raw, knowsModel);
  return {
    ...parsed,
    issues: [...locateIssues(text, tree, parsed.issues), ...duplicateKeyIssues(text, tree)],
    locate: (path) => (tree ? positionOf(text, tree, sourcePath(path), false) : undefined),
  };
}

/** `routes.swe.targets[0].provider` back into segments. */
function pathSegments(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  for (const part of path.split(".")) {
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) return segments;
    if (match[1]) segments.push(match[1]);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/**
 * The value at `segments`, like jsonc-parser's findNodeAtLocation but taking the LAST property of a key written twice:
 * JSON.parse keeps that one, so that is where every issue about it is.
 */
function valueAt(tree: Node, segments: ReadonlyArray<string | number>): Node | undefined {
  let node: Node | undefined = tree;
  for (const segment of segments) {
    if (node?.type === "array" && typeof segment === "number") node = node.children?.[segment];
    else if (node?.type === "object" && typeof segment === "string")
      node = [...(node.children ?? [])].reverse().find((property) => property.children?.[0]?.value === segment)
        ?.children?.[1];
    else return undefined;
  }
  return node;
}

/**
 * Adds line and column to issues whose path is found in the text (the nearest enclosing value when a path names a
 * migrated or missing field). A key issue points at the key itself.
 */
function locateIssues(text: string, tree: Node | undefined, issues: ConfigIssue[]): ConfigIssue[] {
  if (!tree) return issues;
  return issues.map((issue) => {
    if (!issue.path || issue.line !== undefined) return issue;
    const position = positionOf(text, tree, issue.path, /key|unknown key/.test(issue.message));
    return position ? { ...issue, ...position } : issue;
  });
}

/** Where `path` is in the text: its value, or its key for `atKey`; the nearest enclosing value when it is not there. */
function positionOf(
  text: string,
  tree: Node,
  path: string,
  atKey: boolean,
): { line: number; column: number } | undefined {
  const segments = pathSegments(path);
  let node: Node | undefined;
  // Down to the whole file: a key missing at its top (`routes` in `{}`) points at the file's object.
  for (let length = segments.length; length >= 0 && !node; length -= 1) node = valueAt(tree, segments.slice(0, length));
  if (!node) return undefined;
  const at =
    atKey && node.parent?.type === "property" && node.parent.children?.[1] === node
      ? node.parent.children[0]!.offset
      : node.offset;
  return lineAndColumn(text, at);
}
