// `npm run demo`: the walkthrough's whoami service on one machine. Starts four
// whoami replicas on loopback and portero in front of them through the file
// provider, then prints what to type. Extra arguments go to portero.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startWhoami } from './demo/whoami.js';
import { main } from './main.js';

const WEB = process.env.DEMO_WEB_ADDRESS ?? '127.0.0.1:8000';
const API = process.env.DEMO_API_ADDRESS ?? '127.0.0.1:8080';
const HOST = 'whoami.docker.localhost';

const replicas = await Promise.all([1, 2, 3, 4].map((i) => startWhoami(`whoami-${i}`)));
const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-demo-'));
const file = path.join(dir, 'dynamic.yml');
writeFileSync(
  file,
  [
    'http:',
    '  routers:',
    '    whoami:',
    `      rule: Host(\`${HOST}\`)`,
    '      service: whoami',
    '  services:',
    '    whoami:',
    '      loadBalancer:',
    '        servers:',
    ...replicas.map((r) => `          - url: http://127.0.0.1:${r.port}`),
    '',
  ].join('\n'),
);

const code = await main(
  [
    `--entrypoints.web.address=${WEB}`,
    `--entrypoints.traefik.address=${API}`,
    `--providers.file.filename=${file}`,
    '--api.insecure',
    '--log.level=INFO',
    ...process.argv.slice(2),
  ],
  () => {
    process.stdout.write(
      [
        '',
        `portero demo: 4 whoami replicas behind portero (config: ${file}, edits are live).`,
        'Try:',
        `  for i in 1 2 3 4 5 6 7 8; do curl -s -H "Host: ${HOST}" http://${WEB}/ | grep Hostname; done`,
        `  curl http://${API}/ping`,
        `  curl http://${API}/api/rawdata`,
        'Ctrl-C stops it.',
        '',
      ].join('\n'),
    );
  },
);
if (code !== null) {
  await Promise.all(replicas.map((r) => r.close()));
  process.exit(code);
}
