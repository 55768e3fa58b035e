// ServiceFollower: a named service is read every `everyMs` until its window
// ends (a new event restarts it); only changes reach the host; a service
// that is gone, or whose window ended, is forgotten; a failed read waits for
// the next round.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceFollower } from '../../src/providers/swarm/follow.js';
import type { SwarmService } from '../../src/providers/swarm/model.js';

const svc = (id: string, tasks: number): SwarmService => ({ id, name: id, labels: {}, networks: [], vips: {}, tasks: Array.from({ length: tasks }, (_, i) => ({ id: `${id}-${i}`, name: `${id}.${i + 1}`, addresses: {} })) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('reads each named service until its window ends, reports only changes, forgets what is gone', async () => {
  const reads: string[] = [];
  const changes: [string, number | null][] = [];
  const forgotten: string[] = [];
  const answers = new Map<string, (SwarmService | null | 'unchanged' | Error)[]>([
    ['a', ['unchanged', svc('a', 2), new Error('refused'), 'unchanged']],
    ['b', [null]],
  ]);
  const follower = new ServiceFollower(
    {
      read: async (id) => {
        reads.push(id);
        const queue = answers.get(id)!;
        const next = queue.length > 0 ? queue.shift()! : 'unchanged';
        if (next instanceof Error) throw next;
        return next;
      },
      changed: (id, s) => changes.push([id, s === null ? null : s.tasks.length]),
      forget: (id) => forgotten.push(id),
    },
    20,
    150,
  );
  follower.follow('a');
  follower.follow('b');
  await until('two changes', () => changes.length >= 2);
  assert.deepEqual(changes, [['b', null], ['a', 2]]);
  assert.deepEqual(forgotten, ['b'], 'a service that is gone is forgotten at once');
  assert.equal(reads.filter((r) => r === 'b').length, 1);
  await until('the end of the window', () => forgotten.length === 2);
  assert.deepEqual(forgotten, ['b', 'a'], 'the window ended');
  const readsOfA = reads.filter((r) => r === 'a').length;
  assert.ok(readsOfA >= 3 && readsOfA <= 10, `a read every 20 ms for 150 ms: ${readsOfA}`);
  assert.deepEqual(changes.length, 2, 'the failed read and the unchanged ones reported nothing');
  await sleep(60);
  assert.equal(reads.filter((r) => r === 'a').length, readsOfA, 'nothing read after the window');
  // A new event follows it again.
  follower.follow('a');
  await until('a read again', () => reads.filter((r) => r === 'a').length > readsOfA);
  follower.stop();
});
