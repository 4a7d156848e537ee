// A fresh temporary directory for a test, removed when the test process exits at the latest.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const madeDirs: string[] = [];
// Every test file runs in a process of its own: what it made is removed when it exits, also by a caller that forgot
// or failed before its own removal, and also what a store flushed into it on close after the caller's own removal.
const removeAll = () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
};
process.on("exit", removeAll);
// A store writes what it could not before at exit (a test that blocked its directory), which can make the directory
// again after the removal above: once the tests are done, a second removal is added after every exit listener.
let removalAddedLast = false;
process.on("beforeExit", () => {
  if (removalAddedLast) return;
  removalAddedLast = true;
  process.on("exit", removeAll);
});

/** A new empty directory under the system's temporary directory, removed when the test process exits at the latest. */
export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  madeDirs.push(dir);
  return dir;
}
