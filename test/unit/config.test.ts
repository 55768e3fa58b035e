import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ConfigUsageError,
  HelpRequested,
  helpText,
  parseStaticConfig,
  staticConfigForCli,
  type StaticConfig,
} from '../../src/config/index.js';
import { FLAG_SPECS } from '../../src/config/flags.js';
import { parseDuration } from '../../src/config/values.js';

/** Parses with an empty environment so the tests do not depend on the shell. */
function parse(...argv: string[]): StaticConfig {
  return parseStaticConfig(argv, {});
}

/** Asserts that parsing fails with a usage error whose message contains every `parts`. */
function fails(argv: string[], ...parts: string[]): ConfigUsageError {
  let caught: unknown;
  try {
    parseStaticConfig(argv, {});
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigUsageError, `expected ConfigUsageError for ${argv.join(' ')}, got ${String(caught)}`);
  for (const part of parts) assert.ok(caught.message.includes(part), `"${caught.message}" should mention "${part}"`);
  assert.equal(caught.exitCode, 2);
  return caught;
}

const tmp = mkdtempSync(join(tmpdir(), 'portero-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('defaults', () => {
  test('no flags', () => {
    const c = parse();
    assert.deepEqual(Object.keys(c.entryPoints), ['web', 'traefik']);
    assert.deepEqual(c.entryPoints.web, {
      name: 'web',
      address: ':80',
      host: '',
      port: 80,
      trustedIPs: [],
      forwardedHeadersInsecure: false,
      graceTimeoutMs: 10_000,
      readTimeoutMs: 60_000,
      tls: null,
    });
    assert.equal(c.entryPoints.traefik!.port, 8080);
    assert.deepEqual(c.providers, {});
    assert.deepEqual(c.api, { enabled: false, insecure: false, dashboard: true });
    assert.equal(c.ping, true);
    assert.equal(c.log.level, 'error');
    assert.equal(c.workers, availableParallelism());
    assert.deepEqual(c.serversTransport, {
      maxIdleConnsPerHost: 200,
      maxConnsPerHost: 0,
      dialTimeoutMs: 30_000,
      responseHeaderTimeoutMs: 0,
      idleConnTimeoutMs: 90_000,
      readTimeoutMs: 60_000,
      pipelining: 0,
      insecureSkipVerify: false,
      rootCAs: [],
    });
    assert.equal(c.configFile, undefined);
  });

  test('user entry points replace web; traefik stays for API and ping', () => {
    const c = parse('--entrypoints.websecure.address=:443', '--entrypoints.admin.address=127.0.0.1:9000');
    assert.deepEqual(Object.keys(c.entryPoints), ['websecure', 'admin', 'traefik']);
  });

  test('a user-defined traefik entry point is used as given', () => {
    const c = parse('--entrypoints.traefik.address=:9090');
    assert.deepEqual(Object.keys(c.entryPoints), ['traefik']);
    assert.equal(c.entryPoints.traefik!.port, 9090);
  });

  test('no traefik entry point when neither ping nor the API need it', () => {
    assert.deepEqual(Object.keys(parse('--ping=false').entryPoints), ['web']);
    assert.deepEqual(Object.keys(parse('--ping=false', '--api').entryPoints), ['web'], 'v2/v3: --api is api@internal, reached through a router');
    assert.deepEqual(Object.keys(parse('--ping=false', '--api.insecure').entryPoints), ['web', 'traefik']);
  });
});

describe('entry points', () => {
  test('address forms', () => {
    const cases: [string, string, number][] = [
      [':80', '', 80],
      ['127.0.0.1:8081', '127.0.0.1', 8081],
      ['[::1]:80', '::1', 80],
      ['0.0.0.0:80', '0.0.0.0', 80],
      ['localhost:3000', 'localhost', 3000],
      [':8000/tcp', '', 8000],
    ];
    for (const [address, host, port] of cases) {
      const ep = parse(`--entrypoints.web.address=${address}`).entryPoints.web!;
      assert.deepEqual([ep.address, ep.host, ep.port], [address, host, port], address);
    }
  });

  test('bad addresses name the flag', () => {
    fails(['--entrypoints.web.address=:99999'], '--entrypoints.web.address', '99999', 'out of range');
    fails(['--entrypoints.web.address=80'], '--entrypoints.web.address', '[host]:port');
    fails(['--entrypoints.web.address=::1:80'], '--entrypoints.web.address', 'brackets');
    fails(['--entrypoints.web.address=[::1]'], '--entrypoints.web.address');
    fails(['--entrypoints.web.address=[zz]:80'], '--entrypoints.web.address', 'IPv6');
    fails(['--entrypoints.web.address=:http'], '--entrypoints.web.address', 'port');
    fails(['--entrypoints.web.address=bad host:80'], '--entrypoints.web.address', 'host');
    fails(['--entrypoints.web.address=:53/udp'], 'UDP');
    fails(['--entrypoints.web.address'], '--entrypoints.web.address', 'needs a value');
  });

  test('value as a separate argument', () => {
    assert.equal(parse('--entrypoints.web.address', ':81').entryPoints.web!.port, 81);
  });

  test('forwarded headers and grace timeout', () => {
    const c = parse(
      '--entrypoints.web.address=:80',
      '--entrypoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8, 192.168.1.1,::1,fd00::/8',
      '--entrypoints.web.forwardedHeaders.insecure',
      '--entrypoints.web.transport.lifeCycle.graceTimeOut=1m30s',
      '--entrypoints.web.transport.respondingTimeouts.readTimeout=5s',
    );
    const ep = c.entryPoints.web!;
    assert.equal(ep.readTimeoutMs, 5000);
    assert.deepEqual(ep.trustedIPs, ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8']);
    assert.equal(ep.forwardedHeadersInsecure, true);
    assert.equal(ep.graceTimeoutMs, 90_000);
  });

  test('bad CIDR names the flag', () => {
    fails(['--entrypoints.web.forwardedHeaders.trustedIPs=10.0.0.0/33'], '--entrypoints.web.forwardedHeaders.trustedIPs', '10.0.0.0/33');
    fails(['--entrypoints.web.forwardedHeaders.trustedIPs=10.0.0.300'], 'trustedIPs', '10.0.0.300');
  });

  test('an entry point needs an address', () => {
    fails(['--entrypoints.web.forwardedHeaders.insecure'], 'entry point "web"', '--entrypoints.web.address');
  });

  test('two entry points on one port', () => {
    fails(['--entrypoints.a.address=:81', '--entrypoints.b.address=127.0.0.1:81'], '"a"', '"b"', 'same port');
    fails(['--entrypoints.web.address=:8080'], '"traefik"', '--entrypoints.traefik.address');
    // Different hosts on the same port are fine.
    parse('--entrypoints.a.address=127.0.0.1:81', '--entrypoints.b.address=127.0.0.2:81');
  });
});

describe('case-insensitive flag names', () => {
  test('same result whatever the spelling', () => {
    const spellings = [
      ['--entrypoints.web.address=:81', '--entrypoints.web.forwardedheaders.trustedips=10.0.0.1'],
      ['--entryPoints.web.address=:81', '--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.1'],
      ['--ENTRYPOINTS.web.ADDRESS=:81', '--EntryPoints.web.ForwardedHeaders.TrustedIps=10.0.0.1'],
    ];
    const results = spellings.map((argv) => parse(...argv));
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.equal(results[0]!.entryPoints.web!.port, 81);
  });

  test('the entry point name keeps its spelling and matches across flags', () => {
    const c = parse('--entrypoints.Web.address=:81', '--entrypoints.web.forwardedHeaders.insecure=true');
    assert.deepEqual(Object.keys(c.entryPoints), ['Web', 'traefik']);
    assert.equal(c.entryPoints.Web!.forwardedHeadersInsecure, true);
  });

  test('other flags', () => {
    const c = parse('--LOG.LEVEL=debug', '--Providers.File.FileName=dyn.yml', '--SERVERSTRANSPORT.maxidleconnsperhost=5', '--Api.Insecure');
    assert.equal(c.log.level, 'debug');
    assert.equal(c.providers.file?.filename, 'dyn.yml');
    assert.equal(c.serversTransport.maxIdleConnsPerHost, 5);
    assert.equal(c.api.insecure, true);
  });
});

describe('booleans', () => {
  test('--x, --x=true, --x=false, --x false', () => {
    assert.equal(parse('--api').api.enabled, true);
    assert.equal(parse('--api=true').api.enabled, true);
    assert.equal(parse('--api=false').api.enabled, false);
    assert.equal(parse('--api.insecure').api.insecure, true);
    assert.equal(parse('--api.dashboard=false').api.dashboard, false);
    assert.equal(parse('--ping=false').ping, false);
    assert.equal(parse('--ping').ping, true);
    assert.equal(parse('--ping', 'false').ping, false);
    assert.equal(parse('--ping=FALSE').ping, false);
    assert.equal(parse('--ping=0').ping, false);
  });

  test('a bad boolean names the flag', () => {
    fails(['--ping=maybe'], '--ping', 'maybe');
    fails(['--api.dashboard=yes'], '--api.dashboard', 'yes');
  });

  test('a boolean does not swallow the next argument', () => {
    fails(['--api', 'stray'], 'unexpected argument', 'stray');
  });
});

describe('log level', () => {
  test('Traefik levels map to pino levels', () => {
    const cases: [string, string][] = [
      ['TRACE', 'trace'],
      ['DEBUG', 'debug'],
      ['info', 'info'],
      ['Warn', 'warn'],
      ['ERROR', 'error'],
      ['FATAL', 'fatal'],
      ['PANIC', 'fatal'],
    ];
    for (const [given, expected] of cases) assert.equal(parse(`--log.level=${given}`).log.level, expected, given);
  });

  test('unknown level', () => {
    fails(['--log.level=loud'], '--log.level', 'loud');
  });
});

describe('numbers and durations', () => {
  test('workers', () => {
    assert.equal(parse('--workers=3').workers, 3);
    fails(['--workers=0'], '--workers', 'at least 1');
    fails(['--workers=two'], '--workers', 'two');
    fails(['--workers=1.5'], '--workers');
  });

  test('servers transport', () => {
    const c = parse(
      '--serversTransport.maxIdleConnsPerHost=10',
      '--serversTransport.maxConnsPerHost=50',
      '--serversTransport.forwardingTimeouts.dialTimeout=500ms',
      '--serversTransport.forwardingTimeouts.responseHeaderTimeout=1m',
      '--serversTransport.forwardingTimeouts.idleConnTimeout=2',
      '--serversTransport.forwardingTimeouts.readTimeout=0',
      '--serversTransport.pipelining=8',
    );
    assert.deepEqual(c.serversTransport, {
      maxIdleConnsPerHost: 10,
      maxConnsPerHost: 50,
      dialTimeoutMs: 500,
      responseHeaderTimeoutMs: 60_000,
      idleConnTimeoutMs: 2000,
      readTimeoutMs: 0,
      pipelining: 8,
      insecureSkipVerify: false,
      rootCAs: [],
    });
    fails(['--serversTransport.maxConnsPerHost=-1'], '--serversTransport.maxConnsPerHost');
  });

  test('servers transport TLS: insecureSkipVerify, rootCAs as files or inline PEM', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const a = writeTmp('ca-a.pem', pem);
    const b = writeTmp('ca-b.pem', pem.replace('MIIB', 'MIIC'));
    const c = parse('--serversTransport.insecureSkipVerify', `--serversTransport.rootCAs=${a},${b}`);
    assert.equal(c.serversTransport.insecureSkipVerify, true);
    assert.deepEqual(c.serversTransport.rootCAs, [pem, pem.replace('MIIB', 'MIIC')]);
    assert.deepEqual(parse(`--serversTransport.rootCAs=${pem}`).serversTransport.rootCAs, [pem.trim()]);
    fails([`--serversTransport.rootCAs=${join(tmp, 'missing.pem')}`], '--serversTransport.rootCAs', 'cannot read', 'ENOENT');
    fails([`--serversTransport.rootCAs=${writeTmp('not-pem.txt', 'hello')}`], '--serversTransport.rootCAs', 'no PEM certificate');
  });

  test('Go durations and bare seconds', () => {
    const cases: [unknown, number][] = [
      ['10s', 10_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1.5s', 1500],
      ['1h', 3_600_000],
      ['2h45m', 9_900_000],
      ['250us', 0.25],
      ['0', 0],
      ['15', 15_000],
      [3, 3000],
      [0.5, 500],
    ];
    for (const [raw, ms] of cases) assert.equal(parseDuration(raw, 'x'), ms, String(raw));
  });

  test('a bad duration names the flag', () => {
    for (const bad of ['10x', 'abc', '-1s', '1m30', 's', '']) {
      fails([`--entrypoints.web.transport.lifeCycle.graceTimeOut=${bad}`], '--entrypoints.web.transport.lifeCycle.graceTimeOut');
    }
    fails(['--serversTransport.forwardingTimeouts.dialTimeout=5 seconds'], '--serversTransport.forwardingTimeouts.dialTimeout', '5 seconds');
  });
});

describe('file provider flags', () => {
  test('filename, directory, watch', () => {
    assert.deepEqual(parse('--providers.file.filename=/etc/dyn.yml').providers.file, { filename: '/etc/dyn.yml', watch: true });
    assert.deepEqual(parse('--providers.file.directory=/etc/dyn', '--providers.file.watch=false').providers.file, {
      directory: '/etc/dyn',
      watch: false,
    });
  });

  test('needs exactly one of filename and directory', () => {
    fails(['--providers.file.watch'], '--providers.file.filename', '--providers.file.directory');
    fails(['--providers.file.filename=a.yml', '--providers.file.directory=d'], 'cannot both');
  });
});

describe('unknown flags and arguments', () => {
  test('unknown flags are named', () => {
    fails(['--nope'], 'unknown flag --nope');
    fails(['--entrypoints.web.adress=:80'], 'unknown flag --entrypoints.web.adress', 'did you mean --entrypoints.web.address');
    fails(['--entrypoints.web.http.tlss=true'], '--entrypoints.web.http.tlss');
    fails(['--entrypoints.web.forwardedHeaders.bogus=1'], '--entrypoints.web.forwardedHeaders.bogus');
    fails(['--providers.file.filenam=x'], '--providers.file.filenam');
    fails(['--api.foo'], '--api.foo');
    fails(['-x'], 'unknown flag -x');
  });

  test('positional arguments are refused', () => {
    fails(['serve'], 'unexpected argument', 'serve');
  });

  test('the last of a repeated flag wins', () => {
    assert.equal(parse('--workers=2', '--workers=5').workers, 5);
  });
});

describe('help', () => {
  test('--help and -h', () => {
    for (const flag of ['--help', '-h', '--HELP']) {
      assert.throws(() => parse(flag), HelpRequested);
    }
    // Help wins over other problems on the line.
    assert.throws(() => parse('--nope', '--help'), HelpRequested);
  });

  test('lists every flag with its description and default', () => {
    const text = helpText();
    for (const spec of FLAG_SPECS) {
      if (spec.hidden) continue;
      assert.ok(text.includes(`--${spec.flag}`), `help should list --${spec.flag}`);
      assert.ok(text.includes(spec.describe.slice(0, 30)), `help should describe --${spec.flag}`);
    }
    assert.match(text, /default: 30s/);
    assert.match(text, /default: 200/);
  });

  test('staticConfigForCli prints help or the error and gives the exit code', () => {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    assert.deepEqual(staticConfigForCli(['--help'], {}, io), { exitCode: 0 });
    assert.match(out, /--entrypoints\.<name>\.address/);
    assert.equal(err, '');

    out = '';
    assert.deepEqual(staticConfigForCli(['--bogus=1'], {}, io), { exitCode: 2 });
    assert.match(err, /unknown flag --bogus/);
    assert.equal(out, '');

    err = '';
    assert.deepEqual(staticConfigForCli(['--entrypoints.web.address=:70000'], {}, io), { exitCode: 2 });
    assert.match(err, /--entrypoints\.web\.address/);

    const ok = staticConfigForCli(['--workers=2'], {}, io);
    assert.ok('config' in ok);
    assert.equal(ok.config.workers, 2);
  });
});

describe('environment variables', () => {
  test('TRAEFIK_* settings, overridden by flags', () => {
    const env = {
      TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: ':81',
      TRAEFIK_ENTRYPOINTS_WEB_SECURE_ADDRESS: ':443',
      TRAEFIK_LOG_LEVEL: 'DEBUG',
      TRAEFIK_PING: 'false',
      PATH: '/usr/bin',
    };
    const c = parseStaticConfig([], env);
    assert.equal(c.entryPoints.web!.port, 81);
    assert.equal(c.entryPoints.web_secure!.port, 443);
    assert.equal(c.log.level, 'debug');
    assert.equal(c.ping, false);
    assert.equal(parseStaticConfig(['--log.level=info'], env).log.level, 'info');
  });

  test('unknown TRAEFIK_ variable', () => {
    assert.throws(() => parseStaticConfig([], { TRAEFIK_BOGUS: '1' }), /TRAEFIK_BOGUS/);
  });
});

describe('config file', () => {
  const yaml = `
entryPoints:
  web:
    address: ":8000"
    forwardedHeaders:
      trustedIPs: ["10.0.0.0/8", "::1"]
      insecure: false
  websecure:
    address: ":8443"
    transport:
      lifeCycle:
        graceTimeOut: 30s
providers:
  file:
    filename: /etc/portero/dynamic.yml
    watch: false
api:
  insecure: true
  dashboard: false
ping: {}
log:
  level: DEBUG
serversTransport:
  maxIdleConnsPerHost: 64
  forwardingTimeouts:
    dialTimeout: 5s
    idleConnTimeout: 30
workers: 3
`;

  test('Traefik layout', () => {
    const path = writeTmp('static.yml', yaml);
    const c = parse(`--configFile=${path}`);
    assert.equal(c.configFile, path);
    assert.deepEqual(Object.keys(c.entryPoints), ['web', 'websecure', 'traefik']);
    assert.equal(c.entryPoints.web!.port, 8000);
    assert.deepEqual(c.entryPoints.web!.trustedIPs, ['10.0.0.0/8', '::1']);
    assert.equal(c.entryPoints.websecure!.graceTimeoutMs, 30_000);
    assert.deepEqual(c.providers.file, { filename: '/etc/portero/dynamic.yml', watch: false });
    assert.deepEqual(c.api, { enabled: true, insecure: true, dashboard: false });
    assert.equal(c.ping, true);
    assert.equal(c.log.level, 'debug');
    assert.equal(c.workers, 3);
    assert.equal(c.serversTransport.maxIdleConnsPerHost, 64);
    assert.equal(c.serversTransport.dialTimeoutMs, 5000);
    assert.equal(c.serversTransport.idleConnTimeoutMs, 30_000);
  });

  test('flags override the file, the file overrides defaults', () => {
    const path = writeTmp('static2.yml', yaml);
    const c = parse(
      '--configfile',
      path,
      '--entrypoints.web.address=:9000',
      '--log.level=ERROR',
      '--workers=7',
      '--providers.file.watch=true',
    );
    assert.equal(c.entryPoints.web!.port, 9000);
    // Settings of the same entry point not given as flags stay from the file.
    assert.deepEqual(c.entryPoints.web!.trustedIPs, ['10.0.0.0/8', '::1']);
    assert.equal(c.log.level, 'error');
    assert.equal(c.workers, 7);
    assert.equal(c.providers.file?.watch, true);
    assert.equal(c.serversTransport.maxConnsPerHost, 0);
  });

  test('keys are case-insensitive; ping: false and api: {} work', () => {
    const path = writeTmp('static3.yml', 'ENTRYPOINTS:\n  web:\n    Address: ":81"\nPing: false\napi: {}\n');
    const c = parse(`--configFile=${path}`);
    assert.equal(c.entryPoints.web!.port, 81);
    assert.equal(c.ping, false);
    assert.deepEqual(c.api, { enabled: true, insecure: false, dashboard: true }, 'api: {} is api@internal, as in Traefik v2/v3');
  });

  test('--api: api@internal in the v2/v3 dialects, also on the traefik entry point with --api.insecure or v1 flags', () => {
    assert.deepEqual(parse('--api', '--providers.swarm').api, { enabled: true, insecure: false, dashboard: true });
    assert.deepEqual(parse('--api.insecure').api, { enabled: true, insecure: true, dashboard: true });
    assert.deepEqual(parse('--api', '--docker', '--docker.swarmMode').api, { enabled: true, insecure: true, dashboard: true });
    assert.deepEqual(parse().api, { enabled: false, insecure: false, dashboard: true });
  });

  test('errors name the file, position and key', () => {
    const unknown = writeTmp('bad1.yml', 'entryPoints:\n  web:\n    adress: ":80"\n');
    fails([`--configFile=${unknown}`], `${unknown}:3:13`, 'entryPoints.web.adress', 'unknown key', 'did you mean');
    const badPort = writeTmp('bad2.yml', 'entryPoints:\n  web:\n    address: ":80000"\n');
    fails([`--configFile=${badPort}`], `${badPort}:3:14`, 'entryPoints.web.address', 'out of range');
    const badDuration = writeTmp('bad3.yml', 'serversTransport:\n  forwardingTimeouts:\n    dialTimeout: soon\n');
    fails([`--configFile=${badDuration}`], 'serversTransport.forwardingTimeouts.dialTimeout', 'soon');
    const syntax = writeTmp('bad4.yml', 'entryPoints:\n  web: [\n');
    fails([`--configFile=${syntax}`], `${syntax}:`);
    fails([`--configFile=${join(tmp, 'missing.yml')}`], 'missing.yml', 'cannot read');
    const toml = writeTmp('static.toml', '[entryPoints.web]\naddress = ":80"\n');
    fails([`--configFile=${toml}`], 'TOML');
    const nested = writeTmp('bad5.yml', 'configFile: other.yml\n');
    fails([`--configFile=${nested}`], 'configFile', 'not allowed');
  });

  test('an empty file changes nothing', () => {
    const path = writeTmp('empty.yml', '# nothing yet\n');
    const c = parse(`--configFile=${path}`);
    assert.deepEqual(Object.keys(c.entryPoints), ['web', 'traefik']);
  });

  test('TRAEFIK_CONFIGFILE, with flags and env on top', () => {
    const path = writeTmp('static4.yml', 'workers: 3\nlog:\n  level: INFO\nping: false\n');
    const c = parseStaticConfig(['--workers=4'], { TRAEFIK_CONFIGFILE: path, TRAEFIK_LOG_LEVEL: 'WARN' });
    assert.equal(c.workers, 4);
    assert.equal(c.log.level, 'warn');
    assert.equal(c.ping, false);
  });
});
