// How the event log's rotated files are named, for the writer that rotates them and the readers that find them:
// `auto-router.events.jsonl` is the live file, `auto-router.events.1.jsonl` the newest rotated one, `.2` the next.
function splitFileName(fileName: string): { stem: string; extension: string } {
  const dot = fileName.lastIndexOf(".");
  return dot > 0 ? { stem: fileName.slice(0, dot), extension: fileName.slice(dot) } : { stem: fileName, extension: "" };
}

export function rotatedName(fileName: string, index: number): string {
  const { stem, extension } = splitFileName(fileName);
  return `${stem}.${index}${extension}`;
}

export function rotatedIndexes(entries: string[], fileName: string): number[] {
  const { stem, extension } = splitFileName(fileName);
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^${escapeRegExp(stem)}\\.(\\d+)${escapeRegExp(extension)}$`);
  return entries.flatMap((entry) => {
    const match = pattern.exec(entry);
    return match ? [Number(match[1])] : [];
  });
}

/** Rotated siblings of a live log name in `entries` (a directory listing), oldest (highest index) first. */
export function rotatedOldestFirst(entries: string[], fileName: string): string[] {
  return rotatedIndexes(entries, fileName)
    .filter((index) => index > 0)
    .sort((left, right) => right - left)
    .map((index) => rotatedName(fileName, index));
}
