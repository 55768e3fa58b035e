import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSource, SourceError } from '../../src/config/source.js';

test('YAML: merge keys work, and dates and yes/no stay as written', () => {
  const { data } = parseSource(
    ['base: &b', '  passHostHeader: false', 'svc:', '  <<: *b', '  url: http://x', 'when: 2026-11-26', 'flag: yes', 'n: 0o17', ''].join('\n'),
    'c.yml',
  );
  assert.deepEqual(data, { base: { passHostHeader: false }, svc: { passHostHeader: false, url: 'http://x' }, when: '2026-11-26', flag: 'yes', n: 15 });
});

test('YAML: a syntax error names the file, line and column', () => {
  assert.throws(
    () => parseSource('http:\n  routers:\n    a: [unclosed\n', 'bad.yml'),
    (err: unknown) => err instanceof SourceError && err.message.startsWith('bad.yml:') && typeof err.line === 'number' && typeof err.column === 'number',
  );
  assert.throws(() => parseSource('a: 1\na: 2\n', 'dup.yml'), (err: unknown) => err instanceof SourceError && err.line === 2);
});

test('YAML: positions are found for a path, on demand', () => {
  const src = parseSource('http:\n  routers:\n    web:\n      rule: Host(`a`)\n', 'p.yml');
  assert.deepEqual(src.positionOf(['http', 'routers', 'web', 'rule']), { line: 4, column: 13 });
  assert.equal(src.positionOf(['http', 'nothing']), undefined);
});

test('YAML: an alias bomb is refused instead of expanding', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  assert.throws(() => parseSource(`${lines.join('\n')}\n`, 'bomb.yml'), (err: unknown) => err instanceof SourceError && /alias/i.test(err.message));
});

test('YAML: a few aliases are fine', () => {
  const { data } = parseSource('servers: &s [{ url: "http://a" }]\none: { servers: *s }\ntwo: { servers: *s }\n', 'ok.yml');
  assert.deepEqual((data as { two: unknown }).two, { servers: [{ url: 'http://a' }] });
});
