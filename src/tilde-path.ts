// pi's expandTildePath, shared by everything that finds pi's agent dir as pi does (the gateway's `serve`, the
// routing-* scripts): a PI_CODING_AGENT_DIR written as `~/...` (a systemd Environment= line, a Docker env file, a
// quoted value) is the home dir's, not a directory named `~`.
import { homedir } from "node:os";

/** `~` alone and `~/...` are the home dir; `~user` is left as it is, as pi leaves it. */
export const expandTilde = (path: string, home: string = homedir()): string =>
  path === "~" ? home : path.startsWith("~/") ? home + path.slice(1) : path;
