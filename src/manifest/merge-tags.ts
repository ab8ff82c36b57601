import { YAMLMap, YAMLSeq, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, Node, Pair, ScalarTag, CollectionTag } from 'yaml';
import { isObj } from './extends-merge.js';

/**
 * compose's merge tags (the compose specification's merge.md), for `extends`:
 * `!reset` removes a field the base would pass on (and the value written
 * beside the tag is ignored); `!override` replaces the base's value whole
 * instead of merging into it (a list is not appended to, a mapping not
 * merged key by key). Anywhere else `!reset` removes its field and
 * `!override` changes nothing. Any other tag is still refused.
 */
export const mergeTagNames = ['!reset', '!override'] as const;
export type MergeTag = (typeof mergeTagNames)[number];

type Path = readonly (string | number)[];
type Obj = Record<string, unknown>;

/** Where a document's merge tags are, as paths from the document's root. */
export interface MergeMarks {
  reset: Path[];
  override: Path[];
}

/** A tagged scalar is resolved by its tag, not by the core schema: read numbers, booleans and null back as the core schema would. */
function coreScalar(text: string): unknown {
  if (/^(null|Null|NULL|~)?$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(\d+|\d*\.\d+|\d+\.\d*)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/** The tags the YAML parser is given: each on a scalar, a mapping or a sequence, the value left as written. */
export const mergeTags: (ScalarTag | CollectionTag)[] = mergeTagNames.flatMap((tag) => [
  { tag, resolve: coreScalar } as ScalarTag,
  { tag, collection: 'map', nodeClass: YAMLMap, resolve: (map) => map } as CollectionTag,
  { tag, collection: 'seq', nodeClass: YAMLSeq, resolve: (seq) => seq } as CollectionTag,
]);

const isMergeTag = (tag: string | undefined): tag is MergeTag => (mergeTagNames as readonly string[]).includes(tag ?? '');

/**
 * The paths of the document's merge-tagged mapping values. A merge tag on
 * the document itself or on a list item has no field to act on: those come
 * back as problems, at the tagged node's offset.
 */
export function collectMergeMarks(doc: Document): { marks?: MergeMarks; misplaced: { offset: number; tag: MergeTag }[] } {
  const marks: MergeMarks = { reset: [], override: [] };
  const misplaced: { offset: number; tag: MergeTag }[] = [];
  const root = doc.contents as Node | null;
  if (root && isMergeTag(root.tag)) misplaced.push({ offset: root.range?.[0] ?? 0, tag: root.tag });
  const stack: { node: unknown; path: Path }[] = [{ node: root, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isMap(node)) {
      for (const pair of node.items as Pair[]) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const child = pair.value as Node | null;
        const at = [...path, String(pair.key.value)];
        if (child && isMergeTag(child.tag)) marks[child.tag === '!reset' ? 'reset' : 'override'].push(at);
        stack.push({ node: child, path: at });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const child = item as Node | null;
        if (child && isMergeTag(child.tag)) misplaced.push({ offset: child.range?.[0] ?? 0, tag: child.tag });
        stack.push({ node: child, path: [...path, i] });
      });
    }
  }
  return { ...(marks.reset.length || marks.override.length ? { marks } : {}), misplaced };
}

/** The marks under `prefix` (a compose file's `services.NAME`), relative to it. */
export function marksUnder(marks: MergeMarks | undefined, prefix: Path): MergeMarks | undefined {
  if (!marks) return undefined;
  const under = (paths: Path[]) => paths.filter((p) => p.length > prefix.length && prefix.every((s, i) => p[i] === s)).map((p) => p.slice(prefix.length));
  const out = { reset: under(marks.reset), override: under(marks.override) };
  return out.reset.length || out.override.length ? out : undefined;
}

/** The value at a path of mappings and lists; undefined where there is none (YAML gives null, never undefined). */
export function walk(value: unknown, segments: Path): unknown {
  let node = value;
  for (const s of segments) {
    if (Array.isArray(node) && typeof s === 'number') node = node[s];
    else if (isObj(node) && typeof s === 'string' && s in node) node = node[s];
    else return undefined;
  }
  return node;
}

/** A copy of `value` with the field at `path` set (or deleted); only the mappings along the path are copied, so a shared base is never changed. */
function withField(value: Obj, path: Path, change: { set: unknown } | 'delete'): Obj {
  const [head, ...rest] = path;
  const key = String(head);
  const out = { ...value };
  if (rest.length === 0) {
    if (change === 'delete') delete out[key];
    else out[key] = change.set;
    return out;
  }
  const child = out[key];
  if (!isObj(child)) return out; // nothing there to change (a reset of a field no side wrote)
  out[key] = withField(child, rest, change);
  return out;
}

/**
 * Applies a service's merge tags to its value merged over a base: each
 * `!override` field takes the service's own value whole, each `!reset` field
 * is removed. With no base (`merged` is the service itself) only the resets act.
 */
export function applyMergeMarks(merged: Obj, own: Obj, marks: MergeMarks | undefined): Obj {
  if (!marks) return merged;
  let out = merged;
  for (const path of marks.override) {
    const mine = walk(own, path);
    if (mine !== undefined) out = withField(out, path, { set: mine });
  }
  for (const path of marks.reset) out = withField(out, path, 'delete');
  return out;
}
