/** Reads a value at a simple JSON path: `$.a.b`, `items[0].id`, `$['x']`. undefined when absent. */
export function readJsonPath(value: unknown, path: string): unknown {
  const segments = path
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+|'[^']*'|"[^"]*")\]/)
    .filter((s) => s !== undefined && s !== '')
    .map((s) => s.replace(/^['"]|['"]$/g, ''));
  let current: unknown = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : (current as Record<string, unknown>)[segment];
  }
  return current;
}
