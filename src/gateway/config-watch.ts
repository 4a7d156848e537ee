// The routes file while the gateway runs: its edits are picked up as in pi (polled, an invalid edit keeps the last
// good config and is reported, a valid one is confirmed on stderr), and targets that pi's registry does not know are
// reported once each, at start and after every edit.
import { findUnknownTargets, reportUnknownTargets } from "../config/unknown-targets.ts";
import type { Engine } from "../engine.ts";
import { registryModels } from "../runtime/model-catalogue.ts";

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
    const known = registryModels(engine.runtime.registry());
    if (known)
      reportUnknownTargets(
        findUnknownTargets(engine.services.config.current, known),
        engine.services.config.source,
        sink,
        (path) => engine.services.config.state.locate?.(path),
      );
  };
  check();
  engine.services.config.watch(() => {
    check();
    onEdit();
  });
}
