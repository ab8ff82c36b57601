/** Longest piece of an answer a test result may quote. */
export const maxExcerpt = 24;

/** Runs that look like tokens, keys or hashes: never quoted, whatever the length limit. */
const tokenLike = /[A-Za-z0-9+/=_.~-]{16,}/g;

/**
 * At most a short, redacted excerpt of what a test read, for a result that
 * lands in markers, the API and logs: token-like runs hidden, control
 * characters dropped, cut at maxExcerpt characters.
 */
export function excerpt(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(tokenLike, '[redacted]').trim();
  return JSON.stringify(clean.length > maxExcerpt ? `${clean.slice(0, maxExcerpt)}…` : clean);
}

/** What kind of value a JSON path held, for "differed (got a number)", never the value. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
