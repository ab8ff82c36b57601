import { closest, distance } from 'fastest-levenshtein';

/** The closest candidate when it is plausibly a typo of `input`, else undefined. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(input.toLowerCase(), candidates.map((c) => c.toLowerCase()));
  const index = candidates.findIndex((c) => c.toLowerCase() === best);
  const limit = Math.max(2, Math.floor(input.length / 3));
  return distance(input.toLowerCase(), best) <= limit ? candidates[index] : undefined;
}
