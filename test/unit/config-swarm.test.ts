import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ConfigUsageError,
  helpText,
  parseStaticConfig,
  staticConfigForCli,
  type StaticConfig,
  type SwarmStaticConfig,
} from '../../src/config/index.js';
import { translateV1Constraints } from '../../src/config/swarm.js';

function parse(...argv: string[]): StaticConfig {
  return parseStaticConfig(argv, {});
}

function swarm(...argv: string[]): SwarmStaticConfig {
  const s = parse(...argv).providers.swarm;
  assert.ok(s, `expected the Swarm provider to be enabled by ${argv.join(' ')}`);
  return s;
}

function fails(argv: string[], ...parts: string[]): ConfigUsageError {
  return failsWith(() => parseStaticConfig(argv, {}), argv.join(' '), ...parts);
}

function failsWith(run: () => unknown, label: string, ...parts: string[]): ConfigUsageError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigUsageError, `expected ConfigUsageError for ${label}, got ${String(caught)}`);
  for (const part of parts) assert.ok(caught.message.includes(part), `"${caught.message}" should mention "${part}"`);
  assert.equal(caught.exitCode, 2);
  return caught;
}

const tmp = mkdtempSync(join(tmpdir(), 'portero-config-swarm-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const DEFAULTS = {
  endpoint: 'unix:///var/run/docker.sock',
  exposedByDefault: true,
  refreshSeconds: 1,
  defaultRule: 'Host(`{{ normalize .Name }}`)',
  watch: true,
};

describe('the walkthrough command line', () => {
  test('--api --docker --docker.swarmMode --docker.exposedbydefault=false', () => {
    const c = parse('--api', '--docker', '--docker.swarmMode', '--docker.exposedbydefault=false');
    assert.deepEqual(c.providers.swarm, { ...DEFAULTS, exposedByDefault: false, dialect: 'v1' });
    assert.equal(c.api.insecure, true);
    assert.equal(c.providers.file, undefined);
    assert.equal(c.warnings, undefined);
  });

  test('through the CLI entry point: no output, a config', () => {
    let out = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (out += s) };
    const r = staticConfigForCli(['--api', '--docker', '--docker.swarmMode', '--docker.exposedbydefault=false'], {}, io);
    assert.ok('config' in r);
    assert.equal(r.config.providers.swarm?.exposedByDefault, false);
    assert.equal(out, '');
  });
});

describe('defaults', () => {
  test('off unless asked for', () => {
    assert.equal(parse().providers.swarm, undefined);
    assert.equal(parse('--providers.file.filename=x.yml').providers.swarm, undefined);
  });

  test('the same defaults whichever spelling enables it', () => {
    assert.deepEqual(swarm('--providers.swarm'), { ...DEFAULTS, dialect: 'v3' });
    assert.deepEqual(swarm('--providers.docker', '--providers.docker.swarmMode=true'), { ...DEFAULTS, dialect: 'v2' });
    assert.deepEqual(swarm('--docker', '--docker.swarmMode'), { ...DEFAULTS, dialect: 'v1' });
  });
});

describe('Traefik v3 spelling', () => {
  test('every option', () => {
    assert.deepEqual(
      swarm(
        '--providers.swarm',
        '--providers.swarm.endpoint=tcp://127.0.0.1:2375',
        '--providers.swarm.exposedByDefault=false',
        '--providers.swarm.network=proxy',
        '--providers.swarm.refreshSeconds=500ms',
        '--providers.swarm.defaultRule=Host(`{{ .Name }}.example.com`)',
        '--providers.swarm.constraints=Label(`a`,`b`)',
        '--providers.swarm.watch=false',
      ),
      {
        endpoint: 'tcp://127.0.0.1:2375',
        exposedByDefault: false,
        network: 'proxy',
        refreshSeconds: 0.5,
        defaultRule: 'Host(`{{ .Name }}.example.com`)',
        constraints: 'Label(`a`,`b`)',
        watch: false,
        dialect: 'v3',
      },
    );
  });

  test('any option enables the provider, as in Traefik', () => {
    assert.deepEqual(swarm('--providers.swarm.network=proxy'), { ...DEFAULTS, network: 'proxy', dialect: 'v3' });
    assert.equal(swarm('--providers.swarm.exposedByDefault=false').exposedByDefault, false);
  });

  test('--providers.swarm=false turns it off, options or not', () => {
    assert.equal(parse('--providers.swarm=false').providers.swarm, undefined);
    assert.equal(parse('--providers.swarm.network=x', '--providers.swarm=false').providers.swarm, undefined);
    assert.equal(parse('--providers.swarm=false', '--providers.swarm.network=x').providers.swarm, undefined);
    assert.equal(parse('--providers.swarm=false', '--providers.swarm=true').providers.swarm?.dialect, 'v3');
  });

  test('case-insensitive names', () => {
    const c = swarm('--PROVIDERS.SWARM.EXPOSEDBYDEFAULT=false', '--Providers.Swarm.RefreshSeconds=3');
    assert.equal(c.exposedByDefault, false);
    assert.equal(c.refreshSeconds, 3);
  });
});

describe('Traefik v2 spelling', () => {
  test('every option', () => {
    assert.deepEqual(
      swarm(
        '--providers.docker=true',
        '--providers.docker.swarmMode=true',
        '--providers.docker.endpoint=unix:///run/docker.sock',
        '--providers.docker.exposedByDefault=false',
        '--providers.docker.network=web',
        '--providers.docker.swarmModeRefreshSeconds=15s',
        '--providers.docker.defaultRule=Host(`{{ normalize .Name }}.lan`)',
        '--providers.docker.constraints=Label(`x`,`y`)',
        '--providers.docker.watch=true',
      ),
      {
        endpoint: 'unix:///run/docker.sock',
        exposedByDefault: false,
        network: 'web',
        refreshSeconds: 15,
        defaultRule: 'Host(`{{ normalize .Name }}.lan`)',
        constraints: 'Label(`x`,`y`)',
        watch: true,
        dialect: 'v2',
      },
    );
  });

  test('swarmMode alone enables it; --providers.docker=false disables it', () => {
    assert.equal(swarm('--providers.docker.swarmMode').dialect, 'v2');
    assert.equal(swarm('--providers.docker.swarmmode=true', '--providers.docker.exposedbydefault=false').exposedByDefault, false);
    assert.equal(parse('--providers.docker=false', '--providers.docker.swarmMode').providers.swarm, undefined);
  });
});

describe('Traefik v1 spelling', () => {
  test('every option', () => {
    assert.deepEqual(
      swarm(
        '--docker',
        '--docker.swarmmode',
        '--docker.endpoint=http://docker-proxy:2375',
        '--docker.exposedByDefault=false',
        '--docker.network=traefik-net',
        '--docker.swarmModeRefreshSeconds=30',
        '--docker.watch=false',
        '--docker.domain=example.com',
        '--docker.constraints=tag==api',
      ),
      {
        endpoint: 'tcp://docker-proxy:2375',
        exposedByDefault: false,
        network: 'traefik-net',
        refreshSeconds: 30,
        defaultRule: 'Host(`{{ normalize .Name }}.example.com`)',
        constraints: 'LabelRegex(`traefik.tags`, `(^|,)\\s*api\\s*(,|$)`)',
        watch: false,
        dialect: 'v1',
      },
    );
  });

  test('any --docker.* option enables it, even after --docker=false (flaeg)', () => {
    assert.equal(swarm('--docker.swarmMode').dialect, 'v1');
    assert.equal(swarm('--docker=false', '--docker.swarmMode').dialect, 'v1');
    assert.equal(parse('--docker=false').providers.swarm, undefined);
  });

  test('the domain ends up in the default rule', () => {
    assert.equal(swarm('--docker.swarmMode', '--docker.domain=docker.localhost.').defaultRule, 'Host(`{{ normalize .Name }}.docker.localhost`)');
    fails(['--docker.swarmMode', '--docker.domain=a`b'], '--docker.domain', 'invalid domain');
    fails(['--docker.swarmMode', '--docker.domain={{.Name}}'], '--docker.domain', 'invalid domain');
    fails(['--docker.swarmMode', '--docker.domain=.example.com'], '--docker.domain');
  });
});

describe('v1 constraints', () => {
  test('are translated to label expressions', () => {
    assert.equal(
      translateV1Constraints('tag==api, tag!=us-*', 'x'),
      'LabelRegex(`traefik.tags`, `(^|,)\\s*api\\s*(,|$)`) && !LabelRegex(`traefik.tags`, `(^|,)\\s*us-[^,]*\\s*(,|$)`)',
    );
    assert.equal(translateV1Constraints('tag==a.b+c', 'x'), 'LabelRegex(`traefik.tags`, `(^|,)\\s*a\\.b\\+c\\s*(,|$)`)');
  });

  // Traefik v1: the traefik.tags label split on commas, trimmed, empty items
  // dropped; a glob with only * special; every constraint must hold.
  function v1Matches(constraints: string, tagsLabel: string | undefined): boolean {
    const tags = (tagsLabel ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    return constraints.split(',').every((c) => {
      const negate = !c.includes('==');
      const glob = c.split(negate ? '!=' : '==')[1]!.trim();
      const re = new RegExp('^' + glob.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
      return tags.some((t) => re.test(t)) !== negate;
    });
  }

  /** Evaluates the translated expression (only `LabelRegex` terms, `!` and `&&`) on one label value. */
  function translatedMatches(expression: string, tagsLabel: string | undefined): boolean {
    return expression.split(' && ').every((term) => {
      const m = /^(!?)LabelRegex\(`traefik\.tags`, `(.*)`\)$/.exec(term);
      assert.ok(m, term);
      return new RegExp(m[2]!).test(tagsLabel ?? '') !== (m[1] === '!');
    });
  }

  test('match what Traefik v1 matched', () => {
    const constraints = ['tag==api', 'tag!=api', 'tag==us-*', 'tag==*', 'tag!=*', 'tag==*-west', 'tag==a*b', 'tag==api,tag!=internal', 'tag==x.y'];
    const labels = [undefined, '', ' ', 'api', ' api ', 'web,api', 'apix', 'xapi', 'us-east', 'eu-west, api', 'ax, yb', 'a,,b', 'internal,api', 'x.y', 'xzy', ',', 'a b'];
    for (const c of constraints) {
      const expression = translateV1Constraints(c, 'x');
      for (const label of labels) {
        assert.equal(translatedMatches(expression, label), v1Matches(c, label), `${c} on ${JSON.stringify(label)}`);
      }
    }
  });

  test('other forms are refused with a clear error', () => {
    fails(['--docker.swarmMode', '--docker.constraints=api'], '--docker.constraints', 'tag==api');
    fails(['--docker.swarmMode', '--docker.constraints=name==api'], '--docker.constraints', 'only tag constraints');
    fails(['--docker.swarmMode', '--docker.constraints=tag=='], '--docker.constraints', 'needs a tag pattern');
    fails(['--docker.swarmMode', '--docker.constraints=Label(`a`,`b`)'], '--docker.constraints', 'v2/v3 label expression', '--providers.swarm.constraints');
    fails(['--docker.swarmMode', '--docker.constraints=tag==a`b'], 'backquotes');
  });
});

describe('values', () => {
  test('endpoints', () => {
    const ok: [string, string][] = [
      ['unix:///var/run/docker.sock', 'unix:///var/run/docker.sock'],
      ['UNIX:///tmp/d.sock', 'unix:///tmp/d.sock'],
      ['tcp://10.0.0.1:2375', 'tcp://10.0.0.1:2375'],
      ['tcp://docker.example.com:2376/', 'tcp://docker.example.com:2376'],
      ['tcp://[::1]:2375', 'tcp://[::1]:2375'],
      ['http://socket-proxy:2375', 'tcp://socket-proxy:2375'],
    ];
    for (const [given, expected] of ok) assert.equal(swarm(`--providers.swarm.endpoint=${given}`).endpoint, expected, given);
  });

  test('bad endpoints name the flag', () => {
    for (const bad of [
      'unix://var/run/docker.sock',
      'unix://',
      '/var/run/docker.sock',
      'tcp://10.0.0.1',
      'tcp://:2375',
      'tcp://host:99999',
      'tcp://host:2375/v1.41',
      'tcp://user@host:2375',
      'https://host:2376',
      'ssh://user@host',
      'npipe:////./pipe/docker_engine',
      'docker.sock',
    ]) {
      fails([`--providers.swarm.endpoint=${bad}`], '--providers.swarm.endpoint', bad);
    }
    fails(['--docker.swarmMode', '--docker.endpoint=https://h:2376'], '--docker.endpoint', 'unsupported', 'https');
  });

  test('refresh intervals: durations or seconds, more than zero', () => {
    assert.equal(swarm('--providers.swarm.refreshSeconds=2').refreshSeconds, 2);
    assert.equal(swarm('--providers.swarm.refreshSeconds=0.25').refreshSeconds, 0.25);
    assert.equal(swarm('--providers.swarm.refreshSeconds=1m').refreshSeconds, 60);
    assert.equal(swarm('--providers.swarm.refreshSeconds=1500ms').refreshSeconds, 1.5);
    fails(['--providers.swarm.refreshSeconds=0'], '--providers.swarm.refreshSeconds', 'more than 0');
    fails(['--providers.swarm.refreshSeconds=0s'], '--providers.swarm.refreshSeconds', 'more than 0');
    fails(['--providers.swarm.refreshSeconds=-1'], '--providers.swarm.refreshSeconds');
    fails(['--providers.swarm.refreshSeconds=soon'], '--providers.swarm.refreshSeconds', 'soon');
    fails(['--docker.swarmMode', '--docker.swarmModeRefreshSeconds=fast'], '--docker.swarmModeRefreshSeconds', 'fast');
  });

  test('booleans and text', () => {
    fails(['--providers.swarm.exposedByDefault=nope'], '--providers.swarm.exposedByDefault', 'nope');
    fails(['--providers.swarm.watch=2'], '--providers.swarm.watch');
    fails(['--providers.swarm.network='], '--providers.swarm.network', 'needs a value');
    fails(['--providers.swarm.defaultRule='], '--providers.swarm.defaultRule', 'needs a value');
  });
});

describe('errors', () => {
  test('the Docker provider without swarm mode', () => {
    const e = fails(['--docker'], '--docker', 'add --docker.swarmMode', 'standalone containers');
    assert.ok(!e.message.includes('--providers'));
    fails(['--docker', '--docker.exposedbydefault=false'], 'add --docker.swarmMode');
    fails(['--docker', '--docker.swarmMode=false'], 'add --docker.swarmMode');
    fails(['--providers.docker'], '--providers.docker', 'add --providers.docker.swarmMode=true', '--providers.swarm');
    fails(['--providers.docker.network=x'], '--providers.docker.network', 'add --providers.docker.swarmMode=true');
  });

  test('two spellings at once name both', () => {
    fails(['--docker.swarmMode', '--providers.swarm'], '--docker.swarmMode', 'Traefik v1', '--providers.swarm', 'Traefik v3', 'one spelling');
    fails(['--providers.docker.swarmMode', '--providers.swarm.network=x'], '--providers.docker.swarmMode', '--providers.swarm.network');
    fails(['--docker', '--docker.swarmMode', '--providers.docker.swarmMode=true'], '--docker', '--providers.docker.swarmMode');
  });

  test('a spelling turned off does not clash', () => {
    assert.equal(swarm('--providers.docker=false', '--providers.swarm').dialect, 'v3');
    assert.equal(swarm('--docker=false', '--providers.docker.swarmMode').dialect, 'v2');
  });

  test('exit code 2 and the message on stderr', () => {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    assert.deepEqual(staticConfigForCli(['--api', '--docker'], {}, io), { exitCode: 2 });
    assert.match(err, /--docker\.swarmMode/);
    assert.equal(out, '');
  });

  test('unknown options of the provider', () => {
    fails(['--providers.swarm.endpont=unix:///x'], 'unknown flag --providers.swarm.endpont', 'did you mean --providers.swarm.endpoint');
    fails(['--docker.swarmModeRefresh=1'], 'unknown flag --docker.swarmModeRefresh');
  });
});

describe('environment variables', () => {
  test('each spelling', () => {
    assert.deepEqual(
      parseStaticConfig([], { TRAEFIK_PROVIDERS_SWARM_EXPOSEDBYDEFAULT: 'false', TRAEFIK_PROVIDERS_SWARM_REFRESHSECONDS: '5s' }).providers.swarm,
      { ...DEFAULTS, exposedByDefault: false, refreshSeconds: 5, dialect: 'v3' },
    );
    assert.equal(
      parseStaticConfig([], { TRAEFIK_PROVIDERS_DOCKER: 'true', TRAEFIK_PROVIDERS_DOCKER_SWARMMODE: 'true' }).providers.swarm?.dialect,
      'v2',
    );
    assert.equal(parseStaticConfig([], { TRAEFIK_DOCKER_SWARMMODE: 'true' }).providers.swarm?.dialect, 'v1');
  });

  test('flags override the environment', () => {
    const env = { TRAEFIK_PROVIDERS_SWARM_NETWORK: 'a', TRAEFIK_PROVIDERS_SWARM_WATCH: 'false' };
    const c = parseStaticConfig(['--providers.swarm.network=b'], env).providers.swarm!;
    assert.equal(c.network, 'b');
    assert.equal(c.watch, false);
  });
});

describe('config file', () => {
  test('providers: {swarm: {...}}', () => {
    const path = writeTmp(
      'v3.yml',
      [
        'providers:',
        '  swarm:',
        '    endpoint: "tcp://127.0.0.1:2375"',
        '    exposedByDefault: false',
        '    network: proxy',
        '    refreshSeconds: 2',
        '    defaultRule: "Host(`{{ normalize .Name }}.local`)"',
        '    constraints: "Label(`a`,`b`)"',
        '    watch: true',
        '',
      ].join('\n'),
    );
    assert.deepEqual(parse(`--configFile=${path}`).providers.swarm, {
      endpoint: 'tcp://127.0.0.1:2375',
      exposedByDefault: false,
      network: 'proxy',
      refreshSeconds: 2,
      defaultRule: 'Host(`{{ normalize .Name }}.local`)',
      constraints: 'Label(`a`,`b`)',
      watch: true,
      dialect: 'v3',
    });
  });

  test('providers: {swarm: {}} and a bare swarm: key enable the defaults', () => {
    for (const text of ['providers:\n  swarm: {}\n', 'providers:\n  swarm:\n', 'providers:\n  swarm: true\n']) {
      const path = writeTmp('v3-empty.yml', text);
      assert.deepEqual(parse(`--configFile=${path}`).providers.swarm, { ...DEFAULTS, dialect: 'v3' }, text);
    }
    const off = writeTmp('v3-off.yml', 'providers:\n  swarm: false\n');
    assert.equal(parse(`--configFile=${off}`).providers.swarm, undefined);
  });

  test('providers: {docker: {swarmMode: true, ...}}', () => {
    const path = writeTmp('v2.yml', 'providers:\n  docker:\n    swarmMode: true\n    exposedByDefault: false\n    swarmModeRefreshSeconds: 10s\n');
    assert.deepEqual(parse(`--configFile=${path}`).providers.swarm, {
      ...DEFAULTS,
      exposedByDefault: false,
      refreshSeconds: 10,
      dialect: 'v2',
    });
  });

  test('v1: docker: {swarmMode: true, ...}', () => {
    const path = writeTmp('v1.yml', 'docker:\n  swarmMode: true\n  domain: example.org\n  constraints: "tag==web"\n');
    const s = parse(`--configFile=${path}`).providers.swarm!;
    assert.equal(s.dialect, 'v1');
    assert.equal(s.defaultRule, 'Host(`{{ normalize .Name }}.example.org`)');
    assert.equal(s.constraints, 'LabelRegex(`traefik.tags`, `(^|,)\\s*web\\s*(,|$)`)');
  });

  test('flags override the file; a spelling clash across sources is an error', () => {
    const path = writeTmp('v3-net.yml', 'providers:\n  swarm:\n    network: a\n    watch: false\n');
    const s = parse(`--configFile=${path}`, '--providers.swarm.network=b').providers.swarm!;
    assert.equal(s.network, 'b');
    assert.equal(s.watch, false);
    fails([`--configFile=${path}`, '--docker', '--docker.swarmMode'], `${path}:3:14: providers.swarm.network`, '--docker', 'one spelling');
  });

  test('errors name the file and key', () => {
    const docker = writeTmp('docker-only.yml', 'providers:\n  docker:\n    exposedByDefault: false\n');
    fails([`--configFile=${docker}`], `${docker}:3:23: providers.docker.exposedByDefault`, 'add --providers.docker.swarmMode=true');
    const endpoint = writeTmp('bad-endpoint.yml', 'providers:\n  swarm:\n    endpoint: "ftp://x:1"\n');
    fails([`--configFile=${endpoint}`], `${endpoint}:3:15: providers.swarm.endpoint`, 'ftp');
    const refresh = writeTmp('bad-refresh.yml', 'providers:\n  swarm:\n    refreshSeconds: 0\n');
    fails([`--configFile=${refresh}`], 'providers.swarm.refreshSeconds', 'more than 0');
  });
});

describe('accepted and ignored', () => {
  test('--global.checkNewVersion and --global.sendAnonymousUsage warn on stderr', () => {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    const r = staticConfigForCli(['--global.checkNewVersion', '--global.sendAnonymousUsage=true', '--providers.swarm'], {}, io);
    assert.ok('config' in r);
    assert.equal(r.config.warnings?.length, 2);
    assert.match(err, /^portero: warning: --global\.checkNewVersion is ignored/m);
    assert.match(err, /^portero: warning: --global\.sendAnonymousUsage is ignored/m);
    assert.equal(out, '');
  });

  test('false needs no warning; v1 spellings, env and file are accepted too', () => {
    assert.equal(parse('--global.checkNewVersion=false', '--global.sendAnonymousUsage=false').warnings, undefined);
    assert.equal(parse('--checkNewVersion', '--sendAnonymousUsage').warnings?.length, 2);
    assert.equal(parseStaticConfig([], { TRAEFIK_GLOBAL_CHECKNEWVERSION: 'true' }).warnings?.length, 1);
    const path = writeTmp('global.yml', 'global:\n  checkNewVersion: true\n  sendAnonymousUsage: false\n');
    assert.deepEqual(parse(`--configFile=${path}`).warnings, [`${path}:2:20: global.checkNewVersion is ignored: portero never checks for updates or sends usage data`]);
    // The flag overrides the file.
    assert.equal(parse(`--configFile=${path}`, '--global.checkNewVersion=false').warnings, undefined);
  });
});

describe('help', () => {
  test('every spelling, grouped by Traefik version', () => {
    const text = helpText();
    const v3 = text.indexOf('Swarm provider, Traefik v3 spelling');
    const v2 = text.indexOf('Swarm provider, Traefik v2 spelling');
    const v1 = text.indexOf('Swarm provider, Traefik v1 spelling');
    assert.ok(v3 > 0 && v2 > v3 && v1 > v2, 'three groups, v3 first');
    const section = (from: number, to: number) => text.slice(from, to);
    for (const f of ['endpoint', 'exposedByDefault', 'network', 'refreshSeconds', 'defaultRule', 'constraints', 'watch']) {
      assert.ok(section(v3, v2).includes(`--providers.swarm.${f} `), f);
    }
    for (const f of ['swarmMode', 'endpoint', 'exposedByDefault', 'network', 'swarmModeRefreshSeconds', 'defaultRule', 'constraints', 'watch']) {
      assert.ok(section(v2, v1).includes(`--providers.docker.${f} `), f);
    }
    const v1Text = section(v1, text.indexOf('API and health'));
    for (const f of ['swarmMode', 'endpoint', 'exposedByDefault', 'network', 'swarmModeRefreshSeconds', 'domain', 'constraints', 'watch']) {
      assert.ok(v1Text.includes(`--docker.${f} `), f);
    }
    assert.match(v1Text, /--docker\.domain +Services without a rule label get Host\(`\{\{ normalize \.Name \}\}\.<domain>`\)/);
    assert.match(text, /--global\.checkNewVersion/);
    assert.match(text, /--global\.sendAnonymousUsage/);
    assert.match(text, /default: 1s \(Traefik: 15s\)/);
  });
});
