// /auto-router circuit: every breaker's state, its recent failure ratio, and when it will probe.
import type { Subcommand } from "../commands/command-types.ts";
import { formatDuration, table } from "../commands/format.ts";
import type { BreakerSettings } from "./breaker.ts";
import type { BreakerBook, BreakerRow } from "./breaker-book.ts";

function describe(row: BreakerRow, now: number): string {
  if (row.state === "open") return row.until !== undefined ? `probe in ${formatDuration(row.until - now)}` : "waiting";
  if (row.state === "half-open") return row.probeInFlight ? "probe in flight" : "probe on the next request";
  return "-";
}

export function circuitCommand(book: BreakerBook, settings: () => BreakerSettings & { enabled: boolean }): Subcommand {
  return {
    name: "circuit",
    usage: "circuit [reset [provider/model]]",
    description: "Circuit breaker per target: state, failures in the window, when it probes",
    complete: (prefix) =>
      ["reset"].filter((word) => word.startsWith(prefix)).map((word) => ({ value: word, label: word })),
    async run(args, deps, output) {
      const now = deps.now();
      if (args[0] === "reset") {
        const count = book.reset(now, args[1]);
        return output.info(`${count} breaker(s) closed${args[1] ? ` for ${args[1]}` : ""}`);
      }
      if (args.length > 0) return output.error("usage: /auto-router circuit [reset [provider/model]]");
      const current = settings();
      const header = `circuit breakers${current.enabled ? "" : " (disabled)"}: open at ≥ ${Math.round(current.ratio * 100)}% failures of ≥ ${current.minimumCalls} calls in ${formatDuration(current.windowMs)}; break ${formatDuration(current.breakMs)} doubling to ${formatDuration(current.maxBreakMs)}`;
      const rows = book.rows(now);
      if (rows.length === 0)
        return output.info(`${header}\nno target has reported a result yet: every breaker is closed`);
      const lines = rows.map((row) => [
        row.key,
        row.state,
        row.state === "closed" ? `${row.failures}/${row.calls}` : "-",
        describe(row, now),
        row.record.lastFailure ?? "-",
      ]);
      output.info(`${header}\n${table(["target", "state", "failed/calls", "next", "last failure"], lines)}`);
    },
  };
}
