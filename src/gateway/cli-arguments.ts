// What `pi-auto-router` is told on its command line: the usage and help texts and serve's flags. Nothing here loads
// pi or the engine, so `--help`, a mistyped command or flag are answered at once, and without pi installed.
import { closestKey } from "../config/key-suggestions.ts";

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = "127.0.0.1";

export const USAGE = "usage: pi-auto-router serve [--port N] [--host H] [--agent-dir D] [--allow-remote]";

export const HELP = `${USAGE}

Runs the gateway: the router's routes, budgets and failover behind Anthropic- and OpenAI-compatible HTTP
(/v1/messages, /v1/chat/completions, /v1/responses, /v1/models), with a proxy for any other path.

  --port N        the port (default ${DEFAULT_PORT}; 0 = any free port)
  --host H        the address to bind (default ${DEFAULT_HOST}; only loopback addresses unless --allow-remote)
  --agent-dir D   pi's agent dir: credentials, routes file and state (default $PI_CODING_AGENT_DIR, else ~/.pi/agent)
  --allow-remote  allow a --host that is not a loopback address (put TLS in front of it)

The clients' token: AUTO_ROUTER_TOKEN, else the one generated into the state dir on first start
(auto-router.gateway-token; its path is printed). The gateway's settings are the routes file's \`gateway\` block.
SIGHUP re-reads the routes file; SIGTERM/SIGINT let requests in flight finish, then stop (a second one: at once).
pi-auto-router --version prints the version.`;

export interface ServeArguments {
  port: number;
  host: string;
  agentDir?: string;
  allowRemote: boolean;
}

const SERVE_FLAGS = ["port", "host", "agent-dir", "allow-remote", "help"];

export function parseServeArguments(args: string[]): ServeArguments {
  const parsed: ServeArguments = { port: DEFAULT_PORT, host: DEFAULT_HOST, allowRemote: false };
  const given = new Set<string>();
  for (let index = 0; index < args.length; index++) {
    let flag = args[index]!;
    // `--port=8080`, the other common spelling, is the same as `--port 8080`.
    const equals = /^(--[^=]+)=(.*)$/s.exec(flag);
    let inline: string | undefined;
    if (equals && SERVE_FLAGS.includes(equals[1]!.slice(2)))
      [, flag, inline] = equals as unknown as [string, string, string];
    // A flag given twice is a script's mistake (`--port $A --port $B`): the last one would win without a word.
    if (given.has(flag) && flag !== "--help") throw new Error(`${flag} is given twice\n${USAGE}`);
    given.add(flag);
    const value = () => {
      if (inline !== undefined) return inline;
      const next = args[++index];
      if (next === undefined || next.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    if (flag === "--allow-remote" && inline !== undefined)
      throw new Error(`--allow-remote takes no value (got ${JSON.stringify(inline)})\n${USAGE}`);
    if (flag === "--port") {
      const text = value();
      // Number("") and Number(" 0") are 0: an unset variable (`--port "$PORT"`) would listen on a random port.
      const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new Error(
          `--port: expected an integer 0-65535 (0 = any free port), got ${JSON.stringify(text)}\n${USAGE}`,
        );
      parsed.port = port;
    } else if (flag === "--host") {
      // An IPv6 address as a URL writes it (`[::1]`, what the listening line prints) is the address without brackets;
      // with them, the listen failed with `getaddrinfo ENOTFOUND [::1]` after the loopback check had passed it.
      const host = value();
      // listen() reads "" as every interface: an unset variable (`--host "$HOST" --allow-remote`) would serve the
      // whole network, and without --allow-remote the refusal named a blank host (`--host  is not a loopback ...`).
      if (host.trim() === "" || /^\[\s*\]$/.test(host))
        throw new Error(
          `--host: expected an address to bind (default ${DEFAULT_HOST}), got ${JSON.stringify(host)}; leave --host out for ${DEFAULT_HOST}\n${USAGE}`,
        );
      parsed.host = host.replace(/^\[(.*)\]$/s, "$1");
    } else if (flag === "--agent-dir") {
      const dir = value();
      // resolve("") is the current directory: an unset variable (`--agent-dir "$DIR"`) would make it pi's agent dir.
      if (dir === "") throw new Error(`--agent-dir: expected pi's agent dir, got ""\n${USAGE}`);
      parsed.agentDir = dir;
    } else if (flag === "--allow-remote") parsed.allowRemote = true;
    else if (flag === "--version" || flag === "-v")
      throw new Error(`serve takes no ${flag}: the version is \`pi-auto-router --version\`\n${USAGE}`);
    else {
      const meant = closestKey(flag.replace(/^-+/, ""), SERVE_FLAGS);
      throw new Error(`unknown argument ${flag}${meant ? `; did you mean --${meant}?` : ""}\n${USAGE}`);
    }
  }
  return parsed;
}

export const isHelp = (arg: string) => arg === "--help" || arg === "-h";

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** serve's arguments, parsed, with a non-loopback --host refused unless --allow-remote is given too. */
export function checkedServeArguments(args: string[]): ServeArguments {
  const options = parseServeArguments(args);
  if (!isLoopback(options.host) && !options.allowRemote)
    throw new Error(
      `--host ${options.host} is not a loopback address: the gateway spends your subscriptions and keys, so it binds 127.0.0.1 unless --allow-remote is also given`,
    );
  return options;
}
