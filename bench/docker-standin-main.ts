// The stand-in Docker API in its own process (bench/discovery.ts), so that
// its work stays out of the proxy's measurement. argv: services, tasks per
// service. Prints "listening <port>"; then reads one command per line on
// stdin and answers one line: "start <i>" -> "started <url>" (a new task for
// service i), "event <i>" -> "sent" (a service event for it, as a scale or
// update sends), "stats" -> JSON {bytes, requests} by path.
import { createInterface } from 'node:readline';
import { DockerStandin } from './docker-standin.js';

const standin = new DockerStandin({ services: Number(process.argv[2] ?? 1000), tasksPerService: Number(process.argv[3] ?? 10) });
const port = await standin.listen();
console.log(`listening ${port}`);
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'start') console.log(`started ${standin.startTask(Number(arg))}`);
  else if (cmd === 'event') {
    standin.emitServiceEvent(Number(arg));
    console.log('sent');
  }
  else if (cmd === 'stats') console.log(JSON.stringify({ bytes: Object.fromEntries(standin.bytes), requests: Object.fromEntries(standin.requests) }));
}
standin.close();
