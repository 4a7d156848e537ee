// `pi-auto-router serve [--port N] [--host H] [--agent-dir D] [--allow-remote]`, `--help`, `--version`: the command's
// entry. Only serve loads the engine and pi (serve.ts); the help, the version and a usage error need neither.
import { closestKey } from "../config/key-suggestions.ts";
import { redactText } from "../state/redact.ts";
import { checkedServeArguments, HELP, isHelp, type ServeArguments, USAGE } from "./cli-arguments.ts";

/** The command: resolves with the exit code, except `serve`, which ends the process itself. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  version = "unknown",
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help" || (command === "serve" && rest.some(isHelp))) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (command === "--version" || command === "-v") {
    process.stdout.write(`pi-auto-router ${version}\n`);
    return 0;
  }
  if (command !== "serve") {
    const meant = command === undefined ? undefined : closestKey(command, ["serve", "help"]);
    const unknown =
      command === undefined ? "" : `unknown command ${command}${meant ? `; did you mean ${meant}?` : ""}\n`;
    process.stderr.write(`${unknown}${USAGE}\n`);
    return 2;
  }
  const refused = (error: unknown) => {
    process.stderr.write(
      `pi-auto-router serve: ${redactText(error instanceof Error ? error.message : String(error))}\n`,
    );
    return 2;
  };
  let options: ServeArguments;
  try {
    options = checkedServeArguments(rest);
  } catch (error) {
    return refused(error);
  }
  // The engine, fastify and pi load here, for serve alone (no pi to load: the bin says where it looked).
  const { serve } = await import("./serve.ts");
  let code: number;
  try {
    code = await serve(options, env);
  } catch (error) {
    code = refused(error);
  }
  // Ended here, not by the event loop running empty: Node's teardown after the 'exit' event puts back the default
  // action of the signals it listened to, and a SIGHUP in those last milliseconds would end the gateway with 129.
  // process.exit skips that step; the 'exit' listeners (the stores' last writes) still run, and stdout and stderr
  // (files, pipes and terminals) are written synchronously on Linux and macOS.
  process.exit(code);
}
