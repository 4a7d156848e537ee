// A long /auto-router listing as a pi widget component. pi cuts a widget given as string[] after 10 lines ("...
// (widget truncated)"), so `help` or `list` lost their ends; a component is rendered in full. Lines are wrapped to
// the terminal width because pi's TUI refuses a rendered line wider than the terminal.

/** The part of pi's Component interface a widget needs (render returns readonly string[] on newer pi). */
export interface ListingComponent {
  render(width: number): string[];
  invalidate(): void;
}

/** Terminal columns of one code point: East Asian wide and emoji take two, combining marks none. */
function columnsOf(codePoint: number): number {
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) ||
    codePoint === 0x200d
  )
    return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Splits one line into pieces of at most `width` columns; continuation pieces are indented by `indent` spaces. */
export function wrapLine(line: string, width: number, indent = 2): string[] {
  const limit = Math.max(1, width);
  const pieces: string[] = [];
  let current = "";
  let used = 0;
  for (const character of line.replace(/\t/g, "  ")) {
    const columns = columnsOf(character.codePointAt(0)!);
    if (used + columns > limit && current !== "") {
      pieces.push(current);
      const pad = limit > indent + 2 ? " ".repeat(indent) : "";
      current = pad;
      used = pad.length;
    }
    current += character;
    used += columns;
  }
  pieces.push(current);
  return pieces;
}

/** The widget factory pi's setWidget takes: every line of the listing, wrapped to the width pi renders at. */
export function listingWidget(lines: readonly string[]): () => ListingComponent {
  return () => ({
    // One column of margin on the left, like pi's own string[] widgets.
    render: (width: number) =>
      width < 2 ? [] : lines.flatMap((line) => wrapLine(line, width - 1).map((piece) => ` ${piece}`)),
    invalidate: () => {},
  });
}
