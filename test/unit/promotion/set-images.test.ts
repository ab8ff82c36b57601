import { describe, expect, it } from 'vitest';
import { setServiceImages } from '../../../src/promotion/set-images.js';

const svc = (name: string, image: string, extra = '') => `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image}\n${extra}`;

/** Lines of `after` that differ from `before`, as "-old" / "+new" pairs (same line count assumed). */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push(`-${a[i] ?? ''}`, `+${b[i] ?? ''}`);
  return out;
}

describe('setServiceImages', () => {
  it.each([
    ['one service, one file', svc('web', 'app:1'), { web: 'app:2' }, svc('web', 'app:2'), [{ service: 'web', from: 'app:1', to: 'app:2' }]],
    [
      'only the named service of a multi-document file',
      `${svc('web', 'app:1')}---\n${svc('worker', 'app:1')}`,
      { worker: 'app:2' },
      `${svc('web', 'app:1')}---\n${svc('worker', 'app:2')}`,
      [{ service: 'worker', from: 'app:1', to: 'app:2' }],
    ],
    [
      'both services of a multi-document file',
      `${svc('web', 'app:1')}---\n${svc('worker', 'job:1')}`,
      { web: 'app:2', worker: 'job:2' },
      `${svc('web', 'app:2')}---\n${svc('worker', 'job:2')}`,
      [
        { service: 'web', from: 'app:1', to: 'app:2' },
        { service: 'worker', from: 'job:1', to: 'job:2' },
      ],
    ],
    ['a tag to a digest', svc('web', 'app:1'), { web: `app@sha256:${'a'.repeat(64)}` }, svc('web', `app@sha256:${'a'.repeat(64)}`), [{ service: 'web', from: 'app:1', to: `app@sha256:${'a'.repeat(64)}` }]],
    ['a double-quoted image stays double-quoted', svc('web', '"app:1"'), { web: 'app:2' }, svc('web', '"app:2"'), [{ service: 'web', from: 'app:1', to: 'app:2' }]],
    ['a trailing comment on the image line stays', svc('web', 'app:1 # pinned by ops'), { web: 'app:2' }, svc('web', 'app:2 # pinned by ops'), [{ service: 'web', from: 'app:1', to: 'app:2' }]],
  ])('changes %s', (_name, text, images, expected, changed) => {
    expect(setServiceImages(text, images)).toEqual({ text: expected, changed });
  });

  it.each([
    ['the image is already the wanted one', svc('web', 'app:1'), { web: 'app:1' }],
    ['no service of that name is in the file', svc('web', 'app:1'), { api: 'app:2' }],
    ['nothing is asked', svc('web', 'app:1'), {}],
    ['the document is an Environment, not a Service', 'apiVersion: stagecoach/v1\nkind: Environment\nname: web\nimage: app:1\n', { web: 'app:2' }],
    ['the document does not parse', 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: [app:1\n', { web: 'app:2' }],
    ['the image is not a string', 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: { ref: app:1 }\n', { web: 'app:2' }],
    ['the file is empty', '', { web: 'app:2' }],
  ])('is a no-op (same text, nothing changed) when %s', (_name, text, images) => {
    const result = setServiceImages(text, images);
    expect(result.changed).toEqual([]);
    expect(result.text).toBe(text);
  });

  it('changes only the image line of a hand-formatted file: comments, alignment, flow lists and list indentation stay as written', () => {
    const text = [
      '# The shop front. Owned by team web.',
      'apiVersion: stagecoach/v1',
      'kind: Service',
      'name: web        # public name',
      'image: shop/web:1.4',
      'ports: ["8080:80"]',
      'command:',
      '- serve',
      '- --port=80',
      'environment:',
      '  LOG_LEVEL: info   # debug when on call',
      '---',
      '# Background jobs.',
      'apiVersion: stagecoach/v1',
      'kind: Service',
      'name: worker',
      'image: shop/worker:1.4',
      '',
    ].join('\n');
    const result = setServiceImages(text, { web: 'shop/web:1.5' });
    expect(result.changed).toEqual([{ service: 'web', from: 'shop/web:1.4', to: 'shop/web:1.5' }]);
    // A person reviews this diff before merging the promotion: it must be the one line.
    expect(changedLines(text, result.text)).toEqual(['-image: shop/web:1.4', '+image: shop/web:1.5']);
  });

  it('keeps comments and the document separators of a multi-document file', () => {
    const text = `# two services in one file\n---\n${svc('web', 'app:1')}# between\n---\n${svc('worker', 'app:1')}`;
    const result = setServiceImages(text, { worker: 'app:2' });
    expect(result.text).toBe(`# two services in one file\n---\n${svc('web', 'app:1')}# between\n---\n${svc('worker', 'app:2')}`);
  });
});
