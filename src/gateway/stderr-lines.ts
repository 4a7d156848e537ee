// The gateway's stderr lines (one access line per request, warnings), written once per turn of the event loop: a
// gateway under load answers many requests per turn, and Node writes stderr synchronously when it is a pipe, a file
// or a terminal, one system call per write. A line is never held past the current turn, and the process's exit
// writes whatever is still pending.
export interface LineWriter {
  line(text: string): void;
  /** Writes the pending lines now. */
  flush(): void;
}

export function batchedLines(write: (text: string) => void): LineWriter {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = `${pending.join("\n")}\n`;
    pending = [];
    write(text);
  };
  return {
    line(text) {
      pending.push(text);
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    },
    flush,
  };
}
