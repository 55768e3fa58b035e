// The full poll runs on its own thread and sends back only the services that
// changed; SwarmClient keeps its objects for the rest, which is what lets the
// label build skip unchanged services. Against the stand-in Docker API
// (Docker's JSON shapes), on loopback.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DockerStandin } from '../../bench/docker-standin.js';
import { SwarmClient } from '../../src/providers/swarm/client.js';
import type { SwarmService, SwarmSnapshot } from '../../src/providers/swarm/model.js';

let standin: DockerStandin;
let client: SwarmClient;

before(async () => {
  standin = new DockerStandin({ services: 20, tasksPerService: 3 });
  client = new SwarmClient(`tcp://127.0.0.1:${await standin.listen()}`);
});

after(async () => {
  await client.close();
  standin.close();
});

function byName(snapshot: SwarmSnapshot): Map<string, SwarmService> {
  return new Map(snapshot.services.map((s) => [s.name, s]));
}

test('the poll thread sends what changed; the other services keep their objects; a removed service goes', async () => {
  const first = await client.snapshot();
  assert.ok(first !== null);
  assert.equal(first.services.length, 20);
  assert.deepEqual(first.services.map((s) => s.tasks.length), Array(20).fill(3));
  assert.ok(client.lastPoll.bytes > 0);
  assert.equal(client.lastPoll.changed, 20);

  assert.equal(await client.snapshot(), null, 'nothing changed: no snapshot');
  assert.equal(client.lastPoll.changed, 0);

  const url = standin.startTask(4);
  const second = await client.snapshot();
  assert.ok(second !== null);
  assert.equal(client.lastPoll.changed, 1);
  const [was, now] = [byName(first), byName(second)];
  for (const [name, service] of now) {
    if (name === 'svc4') {
      assert.notEqual(service, was.get(name));
      assert.ok(service.tasks.some((t) => `http://${Object.values(t.addresses)[0]![0]}:8080` === url), 'the new task is there');
    } else {
      assert.equal(service, was.get(name), `${name} is the same object`);
    }
  }

  const removed = standin.removeService(7);
  const third = await client.snapshot();
  assert.ok(third !== null);
  assert.equal(third.services.length, 19);
  assert.ok(!byName(third).has(removed.name));
  for (const [name, service] of byName(third)) assert.equal(service, now.get(name), `${name} is the same object`);
});

test('after forgetLast, the next poll reads and sends every service again', async () => {
  const before = await client.snapshot();
  assert.equal(before, null);
  client.forgetLast();
  const again = await client.snapshot();
  assert.ok(again !== null, 'the same answers are parsed again');
  assert.equal(client.lastPoll.changed, again.services.length);
});

test('an engine that answers an error: the poll rejects with its status, and the next good answer is read whole', async () => {
  const answer = standin.server.listeners('request')[0] as (req: unknown, res: { writeHead(n: number, h: object): void; end(b: string): void }) => void;
  standin.server.removeAllListeners('request');
  standin.server.on('request', (_req, res: { writeHead(n: number, h: object): void; end(b: string): void }) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"message":"rpc error: code = Unknown desc = The swarm does not have a leader"}');
  });
  await assert.rejects(client.snapshot(), (err: Error & { statusCode?: number }) => err.statusCode === 500 && /does not have a leader/.test(err.message));
  standin.server.removeAllListeners('request');
  standin.server.on('request', answer);
  const back = await client.snapshot();
  assert.ok(back !== null, 'after an error the answers are parsed again, not compared with the last ones');
  assert.equal(back.services.length, 19);
});
