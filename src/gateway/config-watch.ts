// The routes file while the gateway runs: its edits are picked up as in pi (polled, an invalid edit keeps the last
// good config and is reported, a valid one is confirmed on stderr), and targets (and `gateway.models` mappings) that
// pi's registry does not know are reported once each, at start and after every edit.
import { formatIssue } from "../config/issues.ts";
import { findUnknownTargets, reportUnknownTargets } from "../config/unknown-targets.ts";
import type { Engine } from "../engine.ts";
import { registryModels } from "../runtime/model-catalogue.ts";
import { deadModelMappings } from "./model-names.ts";

/**
 * Reports unknown targets now and starts following the file, telling `onEdit` after each reload; stopped by the
 * engine's close().
 */
export function followRoutesFile(engine: Engine, warn: (text: string) => void, onEdit: () => void): void {
  const reported = new Set<string>();
  const sink = {
    hasSession: true,
    warnOnce: (key: string, text: string) => {
      if (reported.has(key)) return;
      reported.add(key);
      warn(text);
    },
    warnIfNoSession: () => {},
  };
  const check = () => {
    const registry = engine.runtime.registry();
    const known = registryModels(registry);
    if (!known) return;
    const { current, source, state } = engine.services.config;
    reportUnknownTargets(findUnknownTargets(current, known), source, sink, (path) => state.locate?.(path));
    // A client model name mapped to a mistyped provider/model: each request for it would be a 404.
    for (const issue of deadModelMappings(current, registry))
      sink.warnOnce(
        `gateway-model:${issue.path}:${issue.message}`,
        `auto-router: ${formatIssue(source, { severity: "warning", ...issue, ...state.locate?.(issue.path) })}`,
      );
  };
  check();
  engine.services.config.watch(() => {
    check();
    onEdit();
  });
}
