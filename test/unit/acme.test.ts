// The pieces of ACME that need no CA: Traefik's renewal rule, acme.json
// reading and writing (format, 0600, atomic, other resolvers kept), the
// order lock with expiry, the shared challenge folder, and redirect answers.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ChallengeBoard } from '../../src/acme/challenges.js';
import { OrderLock } from '../../src/acme/lock.js';
import { needsRenewal, renewalRule } from '../../src/acme/renewal.js';
import { AcmeStorage, StorageError } from '../../src/acme/storage.js';
import { redirectLocation, redirectStatus } from '../../src/worker/redirect.js';

const dir = mkdtempSync(join(tmpdir(), 'portero-acme-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('renewal, by Traefik\'s rule', () => {
  test('the renew period follows the certificates\' lifetime', () => {
    assert.equal(renewalRule(2160).renewBeforeMs, 30 * DAY, '90-day certificates: 30 days before');
    assert.equal(renewalRule(365 * 24).renewBeforeMs, 120 * DAY);
    assert.equal(renewalRule(30 * 24).renewBeforeMs, 10 * DAY);
    assert.equal(renewalRule(7 * 24).renewBeforeMs, DAY);
    assert.equal(renewalRule(24).renewBeforeMs, 6 * HOUR);
    assert.equal(renewalRule(1).renewBeforeMs, 20 * 60_000);
  });

  test('due when less than the period is left', () => {
    const now = Date.UTC(2026, 0, 1);
    const rule = renewalRule(2160);
    assert.equal(needsRenewal(new Date(now + 31 * DAY), rule, now), false);
    assert.equal(needsRenewal(new Date(now + 29 * DAY), rule, now), true);
  });
});

describe('acme.json', () => {
  test('created 0600 with Traefik\'s layout; other resolvers are kept; written atomically', () => {
    const path = join(dir, 'a', 'acme.json');
    const s = new AcmeStorage(path);
    assert.deepEqual(s.read('le'), { Account: null, Certificates: null });
    s.write('le', { Account: null, Certificates: [{ domain: { main: 'a.test', sans: [] }, certificate: 'Y2VydA==', key: 'a2V5', Store: 'default' }] });
    s.write('other', { Account: { Email: 'x@y', Registration: null, PrivateKey: 'AA==', KeyType: '4096' }, Certificates: [] });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(all), ['le', 'other']);
    assert.equal(s.read('le').Certificates![0]!.domain.main, 'a.test');
    assert.deepEqual(readdirSync(join(dir, 'a')), ['acme.json'], 'no temporary file is left');
  });

  test('refused when group or others can read it, as Traefik does; a broken file is an error, not a reset', () => {
    const path = join(dir, 'open.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0o640);
    assert.throws(() => new AcmeStorage(path).read('le'), (e: unknown) => e instanceof StorageError && /permissions 640 .* too open, please use 600/.test(e.message));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"le": ', { mode: 0o600 });
    assert.throws(() => new AcmeStorage(broken).read('le'), /not valid JSON/);
    assert.equal(readFileSync(broken, 'utf8'), '{"le": ');
  });
});

describe('the order lock', () => {
  test('one holder at a time; released by its holder only; an expired lock is taken over', () => {
    let now = 1_000_000;
    const path = join(dir, 'acme.json.lock');
    const a = new OrderLock(path, 60_000, () => now);
    const b = new OrderLock(path, 60_000, () => now);
    assert.equal(a.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    b.release();
    assert.ok(existsSync(path), 'b cannot release a\'s lock');
    a.release();
    assert.equal(b.tryAcquire(), true);
    now += 61_000; // b died holding it
    assert.equal(a.tryAcquire(), true, 'expired: taken over');
    a.release();
    assert.equal(existsSync(path), false);
  });

  test('a half-written lock file counts by its age', () => {
    const path = join(dir, 'half.lock');
    writeFileSync(path, '{"own');
    const fresh = new OrderLock(path, 60_000);
    assert.equal(fresh.tryAcquire(), false);
    const later = new OrderLock(path, 60_000, () => Date.now() + 120_000);
    assert.equal(later.tryAcquire(), true);
    later.release();
  });
});

describe('shared challenges', () => {
  test('a challenge one instance writes is published by another reading the same folder', () => {
    const folder = join(dir, 'acme.json.challenges');
    const seenA: [string, string][][] = [];
    const seenB: [string, string][][] = [];
    const a = new ChallengeBoard([folder], (c) => seenA.push(c));
    const b = new ChallengeBoard([folder], (c) => seenB.push(c));
    a.add(folder, 'tok-1', 'tok-1.thumb');
    assert.deepEqual(seenA.at(-1), [['tok-1', 'tok-1.thumb']]);
    b.refresh();
    assert.deepEqual(seenB.at(-1), [['tok-1', 'tok-1.thumb']]);
    a.remove(folder, 'tok-1');
    b.refresh();
    assert.deepEqual(seenB.at(-1), []);
    assert.throws(() => a.add(folder, '../escape', 'x'), /unexpected challenge token/);
  });
});

describe('entry-point redirections', () => {
  const target = { scheme: 'https', port: 443, permanent: true, priority: 1 };
  test('301/308 when permanent, 302/307 when not', () => {
    assert.deepEqual(['GET', 'HEAD', 'POST', 'PUT'].map((m) => redirectStatus(target, m)), [301, 301, 308, 308]);
    assert.deepEqual(['GET', 'HEAD', 'POST', 'DELETE'].map((m) => redirectStatus({ ...target, permanent: false }, m)), [302, 302, 307, 307]);
  });
  test('Location keeps host, path and query; the port is left out when it is the scheme\'s default', () => {
    assert.equal(redirectLocation(target, 'example.com:80', '/a/b?c=1&d'), 'https://example.com/a/b?c=1&d');
    assert.equal(redirectLocation({ ...target, port: 8443 }, 'example.com', '/'), 'https://example.com:8443/');
    assert.equal(redirectLocation(target, '[2001:db8::1]:80', '/x'), 'https://[2001:db8::1]/x');
    assert.equal(redirectLocation({ ...target, scheme: 'http', port: 80 }, 'a.test:8443', '/'), 'http://a.test/');
  });
});
