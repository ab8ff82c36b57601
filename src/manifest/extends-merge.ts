/**
 * compose `extends`: how a base service and the extending (main) one merge, as the compose
 * specification's services.md "Merging service definitions" says. Pure: values in, value out.
 *
 * * mappings: the main service's keys win, the base's others are kept (recursively);
 * * `environment`, `labels`, `extra_hosts`, `sysctls`: a mapping, whichever form each side used;
 * * `volumes`, `devices`, `secrets`, `configs`, `ports`: one entry per target (ports: per
 *   host ip, published, target and protocol); the main service's entry replaces the base's;
 * * `cap_add`, `cap_drop`, `expose`, `security_opt`, `device_cgroup_rules`, `external_links`:
 *   base items first, then the main's, duplicates removed;
 * * `dns`, `dns_search`, `env_file`, `tmpfs`: base items first, then the main's, kept as they are;
 * * `command`, `entrypoint`, `healthcheck.test`: replaced, never combined;
 * * `ulimits`: one entry per limit, the main's replacing the base's whole;
 * * `logging`: options merge only when both name the same driver (or one names none);
 * * anything else: the main service's value, else the base's.
 * `depends_on`, `volumes_from` and `links` are never inherited: a service's dependencies stay visible where it is declared;
 * nor are `develop` and `attach`, which only compose's own development commands use.
 */

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Fields a base never passes on: compose declares dependencies where they are used; `develop` (compose
 * watch) and `attach` (compose up's log following) are development-time settings of a shared compose file.
 */
export const notInherited = ['depends_on', 'volumes_from', 'links', 'extends', 'develop', 'attach'] as const;

const mapLike = ['environment', 'labels', 'extra_hosts', 'sysctls'] as const;
const keyedByTarget = ['volumes', 'devices', 'secrets', 'configs', 'ports'] as const;
const uniqueSequences = ['cap_add', 'cap_drop', 'expose', 'security_opt', 'device_cgroup_rules', 'external_links'] as const;
const plainSequences = ['dns', 'dns_search', 'env_file', 'tmpfs'] as const;
const replaced = ['command', 'entrypoint'] as const;

/** `environment`/`labels`/`extra_hosts`/`sysctls` as a mapping; a list item without a value maps to null. */
export function asMapping(field: string, value: unknown): Obj {
  if (isObj(value)) return { ...value };
  const out: Obj = {};
  for (const item of Array.isArray(value) ? value : []) {
    const text = String(item);
    // extra_hosts takes HOST=IP and HOST:IP (an IPv6 address holds colons: split at the first one).
    const sep = field === 'extra_hosts' && !text.includes('=') ? text.indexOf(':') : text.indexOf('=');
    if (sep < 0) out[text] = null;
    else out[text.slice(0, sep)] = text.slice(sep + 1);
  }
  return out;
}

/** Where an entry lands in the container: the key two entries of a sequence must not share. */
export function targetKey(field: (typeof keyedByTarget)[number], item: unknown): string {
  if (field === 'ports') {
    if (!isObj(item)) return `short:${String(item)}`;
    return JSON.stringify([item.host_ip ?? '', String(item.published ?? ''), String(item.target ?? ''), item.protocol ?? 'tcp']);
  }
  if (field === 'secrets' || field === 'configs') {
    const source = isObj(item) ? String(item.source) : String(item);
    const target = isObj(item) && typeof item.target === 'string' ? item.target : source;
    const dir = field === 'secrets' ? '/run/secrets/' : '/';
    return target.startsWith('/') ? target : `${dir}${target}`;
  }
  if (isObj(item)) return String(item.target);
  // "SOURCE:TARGET[:MODE]" or a bare "TARGET" (an anonymous volume, a device mapped to the same path).
  const parts = String(item).split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

function byKey(base: unknown[], main: unknown[], key: (item: unknown) => string): unknown[] {
  const merged = new Map<string, unknown>();
  for (const item of [...base, ...main]) {
    const k = key(item);
    // A duplicate keeps the base's place; a keyed entry takes the main service's value.
    if (!merged.has(k) || main.includes(item)) merged.set(k, item);
  }
  return [...merged.values()];
}

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function mergeMappings(base: Obj, main: Obj, path: string): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(main)) {
    out[key] = key in base ? mergeValue(`${path}.${key}`, base[key], value) : value;
  }
  return out;
}

function mergeValue(path: string, base: unknown, main: unknown): unknown {
  if (path === 'healthcheck.test') return main;
  if (path === 'logging' && isObj(base) && isObj(main)) {
    const same = main.driver === undefined || base.driver === undefined || main.driver === base.driver;
    return same ? mergeMappings(base, main, path) : main;
  }
  if (path.startsWith('ulimits.')) return main;
  if (isObj(base) && isObj(main)) return mergeMappings(base, main, path);
  return main;
}

/** The main service merged over its (already resolved) base, per field. */
export function mergeService(base: Obj, main: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(base)) {
    if (!(notInherited as readonly string[]).includes(key)) out[key] = value;
  }
  for (const [key, value] of Object.entries(main)) {
    if (key === 'extends') continue;
    if (!(key in out)) {
      out[key] = value;
      continue;
    }
    const from = out[key];
    if ((mapLike as readonly string[]).includes(key)) out[key] = { ...asMapping(key, from), ...asMapping(key, value) };
    else if ((keyedByTarget as readonly string[]).includes(key)) {
      out[key] = byKey(listOf(from), listOf(value), (item) => targetKey(key as (typeof keyedByTarget)[number], item));
    } else if ((uniqueSequences as readonly string[]).includes(key)) {
      out[key] = byKey(listOf(from), listOf(value), (item) => JSON.stringify(item));
    } else if ((plainSequences as readonly string[]).includes(key)) out[key] = [...listOf(from), ...listOf(value)];
    else if ((replaced as readonly string[]).includes(key)) out[key] = value;
    else out[key] = mergeValue(key, from, value);
  }
  return out;
}

/** compose refuses `healthcheck.disable: true` over a base healthcheck that is not disabled. */
export function disableOverBase(base: Obj, main: Obj): boolean {
  const b = base.healthcheck;
  const m = main.healthcheck;
  return isObj(m) && m.disable === true && isObj(b) && b.disable !== true;
}
