import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryOf, routerMiddlewares } from '../../src/table/middlewares.js';

test('retry middleware: attempts and initialInterval, Traefik keys in any case', () => {
  assert.deepEqual(retryOf({ retry: { attempts: 4, initialInterval: '50ms' } }), { attempts: 4, initialIntervalMs: 50 });
  assert.deepEqual(retryOf({ Retry: { Attempts: '2' } }), { attempts: 2, initialIntervalMs: 100 }, 'labels give strings; 100 ms by default');
  assert.match(retryOf({ retry: { attempts: 0 } }) as string, /attempts must be a positive integer/);
  assert.match(retryOf({ retry: {} }) as string, /attempts must be a positive integer/);
  assert.match(retryOf({ retry: { attempts: 2, initialInterval: 'soon' } }) as string, /initialInterval must be a duration/);
  assert.match(retryOf({ retry: { attempts: 2, backoff: 1 } }) as string, /unknown key "backoff"/);
});

test("a router's middlewares: retry applies; anything else disables the router", () => {
  const configs = new Map<string, Record<string, unknown>>([
    ['r@file', { retry: { attempts: 3 } }],
    ['auth@file', { basicAuth: { users: ['u:p'] } }],
    ['bad@file', { retry: { attempts: -1 } }],
  ]);
  assert.deepEqual(routerMiddlewares([], configs), { retry: null });
  assert.deepEqual(routerMiddlewares(['r@file'], configs), { retry: { attempts: 3, initialIntervalMs: 100 } });
  assert.match(routerMiddlewares(['r@file', 'auth@file'], configs) as string, /"auth@file" \(basicauth\) is not supported yet/);
  assert.match(routerMiddlewares(['bad@file'], configs) as string, /"bad@file": retry.attempts/);
  assert.match(routerMiddlewares(['nope@file'], configs) as string, /unknown middleware/);
  assert.match(routerMiddlewares(['r@file', 'r@file'], configs) as string, /more than one retry middleware/);
});
