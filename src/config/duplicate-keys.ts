// A key written twice in one object of the routes file: JSON.parse keeps the later value without a word, so a route
// pasted and not renamed silently replaces the one above it. Found in the source text (parsed values no longer hold
// both), with the place of each.
import type { Node } from "jsonc-parser";
import { formatPath, type ConfigIssue } from "./issues.ts";
import { lineAndColumn } from "./json-syntax.ts";

/** `_comment*` / `_example*` keys document the file; writing several of them is how they are used. */
const isDocumentation = (key: string) => key.startsWith("_comment") || key.startsWith("_example");

/** One warning per repeated key, at the later definition (the one JSON.parse keeps), naming where the first is. */
export function duplicateKeyIssues(text: string, root: Node | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const visit = (node: Node, path: Array<string | number>) => {
    if (node.type === "array") {
      node.children?.forEach((child, index) => visit(child, [...path, index]));
      return;
    }
    if (node.type !== "object") return;
    const first = new Map<string, number>();
    for (const property of node.children ?? []) {
      const [keyNode, value] = property.children ?? [];
      if (keyNode?.type !== "string" || typeof keyNode.value !== "string") continue;
      const key = keyNode.value;
      if (isDocumentation(key)) continue;
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, keyNode.offset);
      else
        issues.push({
          severity: "warning",
          path: formatPath([...path, key]),
          message: `defined twice (first at line ${lineAndColumn(text, earlier).line}); the later definition is used and the first is ignored`,
          ...lineAndColumn(text, keyNode.offset),
        });
      if (value) visit(value, [...path, key]);
    }
  };
  if (root) visit(root, []);
  return issues;
}
