/** How many problems status, the API, the page and one log line carry; the rest is counted, not listed. */
export const maxListedProblems = 50;

/** The first `max` entries and, when there were more, one line saying how many were left out. */
export function capList(items: readonly string[], max = maxListedProblems): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `… and ${items.length - max} more (${items.length} in all; run stagecoach validate for every one)`];
}
