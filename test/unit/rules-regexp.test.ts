// Go (RE2) regexp syntax translated to JS, and the routing-path decoding
// the path matchers use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoRegexpError, compileGoRegexp, routingPath, translateGoRegexp } from '../../src/rules/index.js';

function matches(re: string, yes: string[], no: string[]): void {
  const compiled = compileGoRegexp(re);
  for (const s of yes) assert.equal(compiled.test(s), true, `${re} should match ${JSON.stringify(s)}`);
  for (const s of no) assert.equal(compiled.test(s), false, `${re} should not match ${JSON.stringify(s)}`);
}

function invalid(re: string, reason: string): void {
  assert.throws(() => compileGoRegexp(re), (e: unknown) => {
    assert.ok(e instanceof GoRegexpError, `expected GoRegexpError for ${re}, got ${String(e)}`);
    assert.ok(e.message.includes(reason), `"${e.message}" should contain "${reason}"`);
    return true;
  });
}

test('Go regexps are unanchored and keep Go meaning for . ^ $ \\s', () => {
  matches('b', ['abc'], ['xyz']);
  matches('^a.c$', ['abc', 'a\rc', 'a\u2028c'], ['a\nc', 'xabc']);
  matches('a$', ['ba'], ['a\n']); // Go's $ is end of text without (?m)
  matches('^\\s$', [' ', '\t', '\n', '\f', '\r'], ['\v', '\u00a0']);
  matches('^\\S+$', ['abc'], ['a b']);
  matches('^\\w+$', ['a_Z9'], ['é']);
  matches('\\d', ['a1'], ['abc']);
});

test('flags: (?i) (?s) (?m) (?U), global or scoped, and turned off with -', () => {
  matches('(?i)^abc$', ['ABC', 'aBc'], ['abd']);
  matches('(?i)k', ['K', '\u212a'], ['x']);
  matches('(?i)^é$', ['É'], ['e']);
  matches('(?i)^[a-c]+$', ['AbC'], ['d']);
  matches('(?i)^[^a]$', ['b'], ['A', 'a']);
  matches('(?i)^\\w$', ['K', '\u212a', '\u017f'], ['-']);
  matches('(?i)^[\\W]$', ['-'], ['k', 'K', '\u212a']); // folded, then negated, as Go does
  matches('(?i)^[[:^lower:]]$', ['1'], ['a', 'A']);
  matches('^a(?i)b$', ['aB'], ['AB']);
  matches('^(?i:a)b$', ['Ab'], ['AB']);
  matches('^(?i)a(?-i)b$', ['Ab'], ['AB']);
  matches('^(a(?i)b|c)$', ['aB', 'C'], ['A']); // flags persist across | in the same group
  matches('(?s)^a.b$', ['a\nb'], []);
  matches('(?m)^b$', ['a\nb\nc'], ['ab']);
  matches('(?U)^(a+)', ['aaa'], []);
  assert.equal(compileGoRegexp('(?U)a+').exec('aaa')?.[0], 'a');
  assert.equal(compileGoRegexp('(?U)a+?').exec('aaa')?.[0], 'aaa');
});

test('Go-only syntax: \\A \\z \\Q..\\E, POSIX classes, named groups, \\p, octal and \\x{}', () => {
  matches('\\Aab\\z', ['ab'], ['abc', 'xab']);
  matches('^\\Qa.b*\\E$', ['a.b*'], ['axb']);
  matches('^\\Qab\\E+$', ['abbb'], ['abab']); // the quantifier binds to the last literal
  matches('^[[:alpha:]]+$', ['abcXYZ'], ['ab1']);
  matches('^[[:^digit:]x]+$', ['abx'], ['a1']);
  matches('^[[:xdigit:][:space:]]+$', ['af 09'], ['g']);
  matches('^(?P<year>\\d{4})-(?<month>\\d{2})$', ['2024-05'], ['24-05']);
  matches('^\\pL+$', ['héllo'], ['h3llo']);
  matches('^\\p{Greek}+$', ['αβγ'], ['abc']);
  matches('^\\P{L}$', ['1'], ['a']);
  matches('^[\\p{Lu}\\d]+$', ['AB1'], ['ab']);
  matches('^\\p{greek}\\p{Letter}\\p{^L}$', ['αb1'], ['ab1']); // Go's lenient names
  matches('^\\p{Any}\\p{ASCII}$', ['éa'], ['aé']);
  matches('^\\101\\x42\\x{43}$', ['ABC'], []);
  matches('^\\0$', ['\0'], []);
  matches('^\\a\\f\\t\\n\\r\\v$', ['\x07\f\t\n\r\v'], []);
  matches('^\\.\\-\\:\\@\\/$', ['.-:@/'], []); // any escaped punctuation is literal
});

test('literal braces, brackets and dashes are escaped for JS', () => {
  matches('^a{,2}$', ['a{,2}'], ['aa']);
  matches('^{x}$', ['{x}'], []);
  matches('^a{01}$', ['a{01}'], ['a']); // Go: leading zeros make it a literal
  matches('^a{2}b{1,}c{0,1}$', ['aabbc', 'aab'], ['ab']);
  matches('^[]a]+$', [']a'], ['b']);
  matches('^[^]a]$', ['b'], [']']);
  matches('^[a-]+$', ['a-'], ['b']);
  matches('^[\\d-z]+$', ['1-z'], ['y']);
  matches('^[[a]$', ['['], []);
  matches('^]}$', [']}'], []);
  matches('^\\^*$', ['^^'], []);
  matches('^*', [], []); // Go allows repeating an empty-width assertion
  matches('\\b*a', ['a'], []);
});

test('invalid Go regexps are rejected with Go reasons', () => {
  invalid('(abc', 'missing closing ): `(abc`');
  invalid('abc)', 'unexpected ): `abc)`');
  invalid('[abc', 'missing closing ]: `[abc`');
  invalid('*a', 'missing argument to repetition operator: `*`');
  invalid('a|*', 'missing argument to repetition operator');
  invalid('a**', 'invalid nested repetition operator: `**`');
  invalid('a{2}{3}', 'invalid nested repetition operator: `{2}{3}`');
  invalid('a{1001}', 'invalid repeat count: `{1001}`');
  invalid('a{3,2}', 'invalid repeat count');
  invalid('[z-a]', 'invalid character class range: `z-a`');
  invalid('[[:word2:]]', 'invalid character class range');
  invalid('(?=a)', 'invalid or unsupported Perl syntax: `(?=`');
  invalid('(?<!a)', 'invalid named capture'); // Go reads (?< as a named group
  invalid('(?<=a)', 'invalid named capture');
  invalid('(?P=name)', 'invalid or unsupported Perl syntax');
  invalid('(?i-)a', 'invalid or unsupported Perl syntax');
  invalid('(?)', 'invalid or unsupported Perl syntax');
  invalid('(?P<n>a)(?P<n>b)', 'duplicate capture group name');
  invalid('(?P<a-b>x)', 'invalid named capture');
  invalid('(a)\\1', 'invalid escape sequence: `\\1`');
  invalid('\\8', 'invalid escape sequence');
  invalid('\\Z', 'invalid escape sequence');
  invalid('\\C', 'invalid escape sequence');
  invalid('\\xZ', 'invalid escape sequence');
  invalid('\\x{110000}', 'invalid escape sequence');
  invalid('[\\b]', 'invalid escape sequence');
  invalid('a\\', 'trailing backslash');
  invalid('\\p{Klingon}', 'invalid character class range');
});

test('translateGoRegexp exposes the JS source (for the v1 rewrite engine)', () => {
  assert.equal(translateGoRegexp('^/api/v2/(.*)'), '^\\/api\\/v2\\/([^\\n]*)');
  assert.equal(translateGoRegexp('(?P<x>a)'), '(a)');
});

test('routingPath decodes unreserved escapes and keeps reserved ones, like Traefik', () => {
  assert.equal(routingPath('/plain/path'), '/plain/path');
  assert.equal(routingPath('/foo%20bar'), '/foo bar');
  assert.equal(routingPath('/%41%62c'), '/Abc');
  assert.equal(routingPath('/a%2Fb%3F%25%23'), '/a%2Fb%3F%25%23');
  assert.equal(routingPath('/a%2fb'), '/a/b'); // only upper-case spellings are reserved in Traefik
  assert.equal(routingPath('/%C3%A9t%C3%A9'), '/été');
  assert.equal(routingPath('/%C3'), '/%C3'); // not UTF-8: left encoded
  assert.equal(routingPath('/100%'), '/100%');
  assert.equal(routingPath('/%zz'), '/%zz');
});
