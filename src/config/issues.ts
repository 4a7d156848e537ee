// A config problem: where it is (file + path inside it) and what was expected.
export type IssueSeverity = "error" | "warning";
export interface ConfigIssue {
  severity: IssueSeverity;
  /** Dotted path inside the file, e.g. `routes.swe.targets[0].provider`; "" for the whole file. */
  path: string;
  message: string;
  /** Where in the file (1-based), when it could be located. */
  line?: number;
  column?: number;
}

export function formatIssue(file: string, issue: ConfigIssue): string {
  const position = issue.line !== undefined ? `:${issue.line}:${issue.column ?? 1}` : "";
  const where = issue.path ? `${file}${position} at ${issue.path}` : `${file}${position}`;
  return `${issue.severity === "error" ? "error" : "warning"}: ${where}: ${issue.message}`;
}

/** Zod-style path segments to `a.b[0].c`. */
export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
