// Command-line options every reliability suite understands: --quick (reduced sizes for CI), --seed N (fault and
// workload choices), --keep (leave the temp agent dirs for inspection). Sizes are chosen by each suite.

export const DEFAULT_SEED = 20240601;

export interface SuiteOptions {
  quick: boolean;
  seed: number;
  keep: boolean;
  /** Overrides the suite's main size (prompts, processes, ...) when given as --size N. */
  size?: number;
}

export function parseSuiteOptions(argv: string[] = process.argv.slice(2)): SuiteOptions {
  const options: SuiteOptions = { quick: false, seed: DEFAULT_SEED, keep: false };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "--quick") options.quick = true;
    else if (argument === "--keep") options.keep = true;
    else if (argument === "--seed" || argument === "--size") {
      const value = Number(argv[++index]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${argument} needs a non-negative integer`);
      if (argument === "--seed") options.seed = value;
      else options.size = value;
    } else if (argument === "--help") {
      process.stdout.write("options: --quick (reduced sizes), --seed N, --size N, --keep (keep temp dirs)\n");
      process.exit(0);
    } else {
      throw new Error(`unknown option ${argument} (try --help)`);
    }
  }
  return options;
}
