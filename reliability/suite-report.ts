// What every suite prints: its figures as aligned tables, then each invariant with PASS/FAIL. The process exits
// non-zero only when an invariant is violated; timings are printed, never judged.

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export type Row = Record<string, string | number>;

export function formatTable(rows: Row[]): string {
  if (rows.length === 0) return "(none)\n";
  const columns = Object.keys(rows[0]!);
  const cell = (row: Row, column: string) => String(row[column] ?? "");
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row, column).length)));
  const isNumeric = columns.map((column) => rows.every((row) => typeof row[column] === "number"));
  const line = (values: string[]) =>
    values
      .map((value, index) => (isNumeric[index] ? value.padStart(widths[index]!) : value.padEnd(widths[index]!)))
      .join("  ")
      .trimEnd();
  return (
    [
      line(columns),
      line(widths.map((width) => "-".repeat(width))),
      ...rows.map((row) => line(columns.map((column) => cell(row, column)))),
    ].join("\n") + "\n"
  );
}

export class SuiteReport {
  readonly invariants: Invariant[] = [];
  private readonly startedAt = Date.now();

  constructor(
    readonly suite: string,
    readonly seed: number,
  ) {
    process.stdout.write(`== reliability: ${suite} (seed ${seed})\n`);
  }

  table(title: string, rows: Row[]): void {
    process.stdout.write(`\n${title}\n${formatTable(rows)}`);
  }

  note(text: string): void {
    process.stdout.write(`${text}\n`);
  }

  check(name: string, ok: boolean, detail = ""): boolean {
    this.invariants.push({ name, ok, detail });
    return ok;
  }

  get violations(): Invariant[] {
    return this.invariants.filter((invariant) => !invariant.ok);
  }

  /** Prints the invariants and returns the exit code (1 when any is violated). */
  finish(): number {
    this.table(
      "Invariants",
      this.invariants.map((invariant) => ({
        invariant: invariant.name,
        result: invariant.ok ? "PASS" : "FAIL",
        detail: invariant.detail,
      })),
    );
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const failed = this.violations.length;
    process.stdout.write(
      `\n${this.suite}: ${this.invariants.length - failed} invariants held, ${failed} violated (seed ${this.seed}, ${seconds} s)\n`,
    );
    return failed > 0 ? 1 : 0;
  }
}

/** Runs a suite's main function as a program: exit code from the report, a crash is exit 2. Exits explicitly so a
 *  leftover handle can never keep a finished suite alive (the stores flush in their exit hook). */
export function runSuiteMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(
        `suite crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(2);
    },
  );
}
