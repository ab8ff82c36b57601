/**
 * Orders strings by UTF-16 code unit, as `<` does: the same on every host.
 * `localeCompare` would follow the host's locale (so the order of names in
 * status, problems and mounts could differ between machines) and loads ICU's
 * collation data into the daemon (about 2 MB of resident memory) for names
 * that are plain ASCII identifiers, paths and ISO timestamps.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
