// Workers listen with SO_REUSEPORT, and a listener closes whenever a worker
// is replaced or a TLS entry point takes a new default certificate. Linux
// resets the connections still queued on a closing listener unless
// net.ipv4.tcp_migrate_req is 1 (kernel 5.14+), which hands them to another
// listener of the group instead. It is per network namespace: portero sets
// it in its own (a container's, as deployed) when it may, and says so when
// it may not.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';

const PATH = '/proc/sys/net/ipv4/tcp_migrate_req';

export function ensureConnectionMigration(log: Logger, path = PATH): 'on' | 'set' | 'unavailable' {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch {
    log.warn('this kernel cannot migrate queued connections between listeners (net.ipv4.tcp_migrate_req, Linux 5.14+): a few may be reset when a worker is replaced');
    return 'unavailable';
  }
  if (value === '1') return 'on';
  try {
    writeFileSync(path, '1');
    log.info('set net.ipv4.tcp_migrate_req=1 in this network namespace, so that connections queued on a closing listener are not reset');
    return 'set';
  } catch {
    log.warn('net.ipv4.tcp_migrate_req is 0 and cannot be changed here: connections queued on a closing listener are reset when a worker is replaced or a default certificate changes; set it in the stack file (sysctls: net.ipv4.tcp_migrate_req: 1)');
    return 'unavailable';
  }
}
