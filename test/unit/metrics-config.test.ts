// Static settings for metrics, the access log and the log format, in
// Traefik's spellings (flags, TRAEFIK_* variables, the YAML file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigUsageError, helpText, parseStaticConfig, type StaticConfig } from '../../src/config/index.js';

function parse(...argv: string[]): StaticConfig {
  return parseStaticConfig(argv, {});
}

function fails(argv: string[], ...parts: string[]): void {
  assert.throws(
    () => parseStaticConfig(argv, {}),
    (err: unknown) => err instanceof ConfigUsageError && parts.every((p) => err.message.includes(p)),
    argv.join(' '),
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'portero-metrics-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('metrics settings', () => {
  test('off by default', () => {
    const c = parse();
    assert.equal(c.metrics, undefined);
    assert.equal(c.accessLog, undefined);
    assert.equal(c.log.format, 'common');
  });

  test('--metrics.prometheus: Traefik defaults', () => {
    assert.deepEqual(parse('--metrics.prometheus').metrics, {
      prometheus: { entryPoint: 'traefik', buckets: [0.1, 0.3, 1.2, 5.0], addEntryPointsLabels: true, addServicesLabels: true },
    });
  });

  test('any option enables it; an explicit false wins', () => {
    assert.deepEqual(parse('--metrics.prometheus.buckets=0.05,0.5,2').metrics?.prometheus?.buckets, [0.05, 0.5, 2]);
    assert.equal(parse('--metrics.prometheus.addServicesLabels=false').metrics?.prometheus?.addServicesLabels, false);
    assert.equal(parse('--metrics.prometheus=false', '--metrics.prometheus.buckets=1').metrics, undefined);
    assert.equal(parse('--Metrics.Prometheus.AddEntryPointsLabels=false').metrics?.prometheus?.addEntryPointsLabels, false);
  });

  test('buckets must be positive and increasing', () => {
    fails(['--metrics.prometheus.buckets=0.3,0.1'], '--metrics.prometheus.buckets', 'increasing');
    fails(['--metrics.prometheus.buckets=0.1,abc'], '--metrics.prometheus.buckets', 'abc');
    fails(['--metrics.prometheus.buckets=-1'], '--metrics.prometheus.buckets');
  });

  test('the metrics entry point must exist; traefik is created for it as for ping', () => {
    fails(['--metrics.prometheus.entryPoint=metrics'], '--metrics.prometheus.entryPoint', 'metrics', '--entrypoints.metrics.address');
    const c = parse('--entrypoints.web.address=:80', '--entrypoints.metrics.address=:8082', '--metrics.prometheus.entryPoint=metrics');
    assert.equal(c.metrics?.prometheus?.entryPoint, 'metrics');
    // Even with ping off, --metrics.prometheus keeps the traefik entry point.
    assert.deepEqual(Object.keys(parse('--ping=false', '--metrics.prometheus').entryPoints), ['web', 'traefik']);
    assert.deepEqual(Object.keys(parse('--ping=false').entryPoints), ['web']);
  });

  test('addRoutersLabels is accepted with a warning', () => {
    const c = parse('--metrics.prometheus.addrouterslabels=true');
    assert.ok(c.metrics?.prometheus);
    assert.match((c.warnings ?? []).join('\n'), /addRoutersLabels/i);
  });

  test('environment variables and the config file', () => {
    const env = parseStaticConfig([], { TRAEFIK_METRICS_PROMETHEUS_BUCKETS: '0.2,0.4', TRAEFIK_ACCESSLOG_FORMAT: 'json' });
    assert.deepEqual(env.metrics?.prometheus?.buckets, [0.2, 0.4]);
    assert.equal(env.accessLog?.format, 'json');
    const file = join(tmp, 'static.yml');
    writeFileSync(
      file,
      'metrics:\n  prometheus:\n    buckets: [0.1, 0.5]\n    addServicesLabels: false\naccessLog:\n  filePath: /var/log/access.log\n  bufferingSize: 100\nlog:\n  format: json\n',
    );
    const c = parse(`--configFile=${file}`);
    assert.deepEqual(c.metrics?.prometheus, { entryPoint: 'traefik', buckets: [0.1, 0.5], addEntryPointsLabels: true, addServicesLabels: false });
    assert.deepEqual(c.accessLog, { format: 'common', filePath: '/var/log/access.log', bufferingSize: 100 });
    assert.equal(c.log.format, 'json');
    writeFileSync(file, 'metrics:\n  prometheus: {}\naccessLog: {}\n');
    assert.ok(parse(`--configFile=${file}`).metrics?.prometheus);
    assert.deepEqual(parse(`--configFile=${file}`).accessLog, { format: 'common', bufferingSize: 0 });
  });
});

describe('access log and log format settings', () => {
  test('--accesslog and its options', () => {
    assert.deepEqual(parse('--accesslog').accessLog, { format: 'common', bufferingSize: 0 });
    assert.deepEqual(parse('--accesslog.filepath=/tmp/a.log', '--accesslog.format=JSON', '--accesslog.bufferingsize=50').accessLog, {
      format: 'json',
      filePath: '/tmp/a.log',
      bufferingSize: 50,
    });
    assert.equal(parse('--accessLog.format=genericCLF').accessLog?.format, 'genericCLF');
    assert.equal(parse('--accesslog=false', '--accesslog.filepath=/x').accessLog, undefined);
    fails(['--accesslog.format=xml'], '--accessLog.format', 'xml', 'common');
    fails(['--accesslog.bufferingsize=-1'], '--accessLog.bufferingSize');
  });

  test('--log.format', () => {
    assert.equal(parse('--log.format=json').log.format, 'json');
    assert.equal(parse('--log.format=COMMON').log.format, 'common');
    fails(['--log.format=pretty'], '--log.format', 'pretty');
  });

  test('--help lists them', () => {
    const help = helpText();
    for (const flag of ['--metrics.prometheus.buckets', '--metrics.prometheus.entryPoint', '--accessLog.filePath', '--accessLog.bufferingSize', '--log.format']) {
      assert.ok(help.includes(flag), flag);
    }
  });
});

describe("Traefik's access log filters and fields", () => {
  test('are accepted with a warning, and enable the access log as in Traefik', () => {
    const c = parse('--accesslog.filters.statuscodes=400-499', '--accesslog.fields.headers.names.User-Agent=keep', '--accesslog.fields.defaultmode=keep');
    assert.ok(c.accessLog);
    const warnings = (c.warnings ?? []).join('\n');
    assert.match(warnings, /--accessLog\.filters\.statusCodes is ignored/);
    assert.match(warnings, /--accessLog\.fields\.headers\.names\.User-Agent is ignored/);
    assert.match(warnings, /--accessLog\.fields\.defaultMode is ignored/);
  });
});
