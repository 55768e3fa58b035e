// nginx configuration shared by the saturated benches (headline, HTTPS): the
// process settings, a pool of keep-alive connections to the backends, and the
// request headers portero adds, so that both proxies do the same work; and
// starting nginx on such a configuration, pinned to a core.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from '../saturated.js';
import { type Child, spawnChild } from '../spawn.js';
import { findBinary, installHint } from './find.js';

/** A whole configuration: `workers` processes, files under `dir`, `http` inside the http block. */
export function nginxConf(dir: string, workers: number, http: string): string {
  return `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/cb; proxy_temp_path ${dir}/tmp/p; fastcgi_temp_path ${dir}/tmp/f; uwsgi_temp_path ${dir}/tmp/u; scgi_temp_path ${dir}/tmp/s;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
${http}
}
`;
}

/** The upstream block `backends`: round robin, keep-alive. */
export function nginxUpstream(backends: readonly number[]): string {
  return `  upstream backends {
${backends.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
    keepalive_requests 1000000;
  }`;
}

/** A location forwarding to `backends` over HTTP/1.1 keep-alive, with the Host and the six forwarding headers portero sends. */
export const NGINX_FORWARD_LOCATION = `    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Server $hostname;
      proxy_set_header X-Real-Ip $remote_addr;
    }`;

/** Writes `conf(dir)` to `dir`/nginx.conf and starts nginx on it pinned to `core`; the caller waits until it answers. */
export function spawnPinnedNginx(name: string, dir: string, core: string, conf: (dir: string) => string): Child {
  const bin = findBinary('nginx', 'NGINX_BIN');
  if (bin === null) throw new Error(installHint('nginx', 'NGINX_BIN'));
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), conf(dir));
  const [cmd, args] = pinned(core, bin, ['-p', `${dir}/`, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]);
  return spawnChild(name, cmd, args, { logFile: join(dir, 'nginx.out') });
}
