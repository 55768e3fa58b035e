// The usual process metrics (the names Prometheus client libraries use), read
// on the main thread when /metrics is scraped. CPU and resident memory are the
// whole process's, workers included; the heap figures are the main thread's
// (each worker thread has its own heap).
import { readdirSync, readFileSync } from 'node:fs';
import type { Exposition } from './exposition.js';

const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // minus the directory's own
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function virtualMemoryBytes(): number | null {
  try {
    const m = /^VmSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

export function writeProcessMetrics(out: Exposition): void {
  const cpu = process.cpuUsage();
  out.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.');
  out.sample('process_cpu_seconds_total', '', (cpu.user + cpu.system) / 1e6);
  const fds = openFds();
  if (fds !== null) {
    out.family('process_open_fds', 'gauge', 'Number of open file descriptors.');
    out.sample('process_open_fds', '', fds);
  }
  const max = maxFds();
  if (max !== null) {
    out.family('process_max_fds', 'gauge', 'Maximum number of open file descriptors.');
    out.sample('process_max_fds', '', max);
  }
  out.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.');
  out.sample('process_resident_memory_bytes', '', process.memoryUsage.rss());
  const vm = virtualMemoryBytes();
  if (vm !== null) {
    out.family('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.');
    out.sample('process_virtual_memory_bytes', '', vm);
  }
  out.family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.');
  out.sample('process_start_time_seconds', '', startTimeSeconds);
  const mem = process.memoryUsage();
  out.family('nodejs_heap_size_total_bytes', 'gauge', 'Main thread heap size from Node.js in bytes.');
  out.sample('nodejs_heap_size_total_bytes', '', mem.heapTotal);
  out.family('nodejs_heap_size_used_bytes', 'gauge', 'Main thread heap size used from Node.js in bytes.');
  out.sample('nodejs_heap_size_used_bytes', '', mem.heapUsed);
  out.family('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.');
  out.sample('nodejs_external_memory_bytes', '', mem.external);
}
