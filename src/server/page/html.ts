/** Escapes text for HTML content and attribute values: everything from the repo goes through here. */
export function esc(value: string | number | null | undefined): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const short = (revision: string | null | undefined): string => (revision ? revision.slice(0, 7) : '—');

/** An id fragment safe in HTML and CSS selectors, derived from a name. */
export const idOf = (prefix: string, name: string): string => `${prefix}-${name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/** A revision as short text with the full one in a title. */
export const rev = (revision: string | null | undefined): string =>
  revision ? `<code title="${esc(revision)}">${esc(short(revision))}</code>` : '<span class="none">none</span>';

export const time = (iso: string | null | undefined): string => (iso ? `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'))}</time>` : '');
