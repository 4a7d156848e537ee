// What a mistyped word was probably meant to be: the known word closest in spelling, if it is close enough to be a
// typo of it. Serves the routes file's keys ("sortby" -> "sortBy"), its provider and model ids, and command arguments.

/** Levenshtein distance with adjacent transpositions counted as one edit ("wieght" / "weight"). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` in spelling (case ignored), if at most `allowed` edits away. Candidates whose length
 * alone puts them further away are not compared, so long lists (every model id pi knows) stay cheap.
 */
export function closestWord(
  word: string,
  candidates: Iterable<string>,
  allowed: number,
  /** None when two candidates are equally close: where a guess would refuse a request, a typo points at one word. */
  unique = false,
): string | undefined {
  const wanted = word.toLowerCase();
  let best: { word: string; distance: number; tied: boolean } | undefined;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > allowed) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance > allowed) continue;
    if (!best || distance < best.distance) best = { word: candidate, distance, tied: false };
    else if (distance === best.distance && candidate.toLowerCase() !== best.word.toLowerCase()) best.tied = true;
  }
  return unique && best?.tied ? undefined : best?.word;
}

/** The known id (provider, model, route) nearest to `word` (case-insensitive), if near enough to be a plausible typo. */
export const closestId = (word: string, candidates: Iterable<string>, unique = false): string | undefined =>
  closestWord(word, candidates, Math.max(2, Math.floor(word.length / 3)), unique);
