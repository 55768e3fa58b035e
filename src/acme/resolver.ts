// One certificate resolver (--certificatesresolvers.<name>.acme.*): keeps the
// certificates its routers need in acme.json, ordering what is missing or
// due for renewal over HTTP-01, one order at a time. The stored certificates
// are served as soon as they are read, so a restart (or a Traefik acme.json)
// serves from the first handshake without a new order. Instances sharing the
// storage file take turns through a lock and pick up each other's results.
import { mkdirSync } from 'node:fs';
import { Agent, get as httpsGet } from 'node:https';
import { dirname } from 'node:path';
import { rootCertificates } from 'node:tls';
import { generateKeyPair, createPrivateKey } from 'node:crypto';
import { promisify } from 'node:util';
import type AcmeClient from 'acme-client';
import type { Logger } from 'pino';
import type { AcmeResolverConfig, TlsDomain } from '../config/tls.js';
import type { ConfigError } from '../dynamic/model.js';
import { covers, loadCertificate, type LoadedCertificate } from '../tls/certificate.js';
import type { ChallengeBoard } from './challenges.js';
import { OrderLock } from './lock.js';
import { needsRenewal, renewalRule, type RenewalRule } from './renewal.js';
import { AcmeStorage, decodePem, encodePem, StorageError, type ResolverData, type StoredAccount } from './storage.js';

/** How often every resolver looks at acme.json and its orders, and the challenge folders are read (https.ts). */
export const ACME_TICK_MS = 250;
/** Peers read the shared challenge folder every tick: give them two before the CA checks. */
const PEER_DELAY_MS = 2 * ACME_TICK_MS + 100;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 3_600_000;

export interface ResolverStatus {
  name: string;
  /** Current failures, one per domain set; empty when all is well. */
  errors: ConfigError[];
  /** Domains with a served certificate, and when it expires. */
  certificates: { domain: TlsDomain; notAfter: string }[];
  /** Orders this instance completed (tests and logs). */
  orders: number;
}

interface Failure {
  message: string;
  attempts: number;
  nextAttempt: number;
}

const key = (d: TlsDomain) => [d.main, ...d.sans].join(',');

export class AcmeResolver {
  readonly storage: AcmeStorage;
  readonly challengeDir: string;
  private readonly lock: OrderLock;
  private readonly rule: RenewalRule;
  private wanted: TlsDomain[] = [];
  private stamp = '';
  private stored: { domain: TlsDomain; cert: LoadedCertificate }[] = [];
  private storageError: string | null = null;
  private readonly failures = new Map<string, Failure>();
  private ordering = false;
  private orders = 0;
  private stopped = false;

  constructor(
    readonly config: AcmeResolverConfig,
    private readonly board: ChallengeBoard,
    private readonly serve: (certs: LoadedCertificate[]) => void,
    private readonly log: Logger,
  ) {
    this.storage = new AcmeStorage(config.storage);
    this.lock = new OrderLock(`${config.storage}.lock`);
    this.challengeDir = `${config.storage}.challenges`;
    this.rule = renewalRule(config.certificatesDurationHours);
  }

  /** Reads the stored certificates (served at once); the owner then calls tick() every ACME_TICK_MS. */
  start(): void {
    this.reload();
  }

  stop(): void {
    this.stopped = true;
  }

  /** The domain sets the routers need now. */
  want(domains: readonly TlsDomain[]): void {
    this.wanted = [...domains];
    setImmediate(() => this.tick());
  }

  status(): ResolverStatus {
    const errors: ConfigError[] = [];
    const provider = `acme:${this.config.name}`;
    if (this.storageError !== null) errors.push({ provider, message: this.storageError });
    for (const [k, f] of this.failures) {
      errors.push({ provider, element: { kind: 'certificate', name: k }, message: `${f.message} (attempt ${f.attempts}, next in ${Math.max(0, Math.round((f.nextAttempt - Date.now()) / 1000))} s)` });
    }
    return {
      name: this.config.name,
      errors,
      certificates: this.stored.map((s) => ({ domain: s.domain, notAfter: s.cert.notAfter.toISOString() })),
      orders: this.orders,
    };
  }

  /** Picks up other instances' writes to acme.json, then starts the next order that is due. */
  tick(): void {
    if (this.stopped) return;
    if (this.storage.stamp() !== this.stamp) this.reload();
    if (this.ordering || this.storageError !== null) return;
    const now = Date.now();
    const due = this.wanted.find((d) => {
      const f = this.failures.get(key(d));
      return (f === undefined || f.nextAttempt <= now) && this.needsOrder(d, now);
    });
    if (due === undefined) return;
    this.ordering = true;
    this.order(due)
      .catch((err) => this.log.error({ resolver: this.config.name, err }, 'ACME order failed unexpectedly'))
      .finally(() => {
        this.ordering = false;
      });
  }

  private needsOrder(d: TlsDomain, now: number): boolean {
    const names = [d.main, ...d.sans];
    const have = this.stored.find((s) => names.every((n) => covers(s.cert, n)));
    return have === undefined || needsRenewal(have.cert.notAfter, this.rule, now);
  }

  /** Reads acme.json again: another instance (or our own write) changed it. */
  private reload(): void {
    this.stamp = this.storage.stamp();
    let data: ResolverData;
    try {
      data = this.storage.read(this.config.name);
      this.storageError = null;
    } catch (err) {
      this.storageError = err instanceof StorageError ? err.message : `cannot read ${this.config.storage}: ${(err as Error).message}`;
      this.log.error({ resolver: this.config.name }, this.storageError);
      return;
    }
    const stored: typeof this.stored = [];
    for (const c of data.Certificates ?? []) {
      try {
        const cert = loadCertificate(decodePem(c.certificate), decodePem(c.key), `acme ${this.config.name} ${c.domain.main}`);
        stored.push({ domain: { main: c.domain.main, sans: c.domain.sans ?? [] }, cert });
      } catch (err) {
        // Expired or broken: it is ordered again if a router needs it.
        this.log.warn({ resolver: this.config.name, domain: c.domain.main }, `stored certificate not served: ${(err as Error).message}`);
      }
    }
    this.stored = stored;
    this.serve(stored.map((s) => s.cert));
  }

  private async order(d: TlsDomain): Promise<void> {
    const k = key(d);
    let locked = false;
    try {
      mkdirSync(dirname(this.config.storage), { recursive: true, mode: 0o700 });
      locked = this.lock.tryAcquire();
      if (!locked) return; // another instance is ordering: its result arrives through the file
      this.reload();
      if (this.storageError !== null || !this.needsOrder(d, Date.now())) return;
      this.log.info({ resolver: this.config.name, domains: k }, 'ordering a certificate');
      // acme-client turns a network error into a TypeError after 75 s of retries: ask the directory first, for a clear answer.
      const acme = await acmeLib();
      await reachable(this.config.caServer, acme.axios.defaults.httpsAgent as Agent | undefined);
      const data = this.storage.read(this.config.name);
      const account = data.Account ?? (await newAccount(this.config.email));
      const client = new acme.Client({
        directoryUrl: this.config.caServer,
        accountKey: accountKeyPem(account),
        ...(account.Registration?.uri ? { accountUrl: account.Registration.uri } : {}),
      });
      if (!account.Registration?.uri) {
        const body = await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${this.config.email}`] });
        account.Registration = { body: body as unknown as Record<string, unknown>, uri: client.getAccountUrl() };
        this.storage.write(this.config.name, { ...this.storage.read(this.config.name), Account: account });
      }
      const [keyPem, csr] = await acme.crypto.createCsr({ commonName: d.main, altNames: [d.main, ...d.sans] }, await certificateKey(acme, this.config.keyType));
      const chain = await client.auto({
        csr,
        email: this.config.email,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks; acme-client's own pre-check would query the names over the network.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          this.board.add(this.challengeDir, challenge.token, keyAuthorization);
          await new Promise((r) => setTimeout(r, PEER_DELAY_MS));
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.board.remove(this.challengeDir, challenge.token);
        },
      });
      const cert = loadCertificate(chain, keyPem.toString(), `acme ${this.config.name} ${d.main}`);
      const latest = this.storage.read(this.config.name);
      const others = (latest.Certificates ?? []).filter((c) => key({ main: c.domain.main, sans: c.domain.sans ?? [] }) !== k);
      this.storage.write(this.config.name, {
        Account: latest.Account ?? account,
        Certificates: [...others, { domain: { main: d.main, sans: d.sans }, certificate: encodePem(chain), key: encodePem(keyPem.toString()), Store: 'default' }],
      });
      this.orders++;
      this.failures.delete(k);
      this.log.info({ resolver: this.config.name, domains: k, notAfter: cert.notAfter.toISOString() }, 'certificate obtained');
      this.reload();
    } catch (err) {
      const f = this.failures.get(k);
      const attempts = (f?.attempts ?? 0) + 1;
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));
      const why = err instanceof TypeError && /reading 'config'/.test(err.message) ? 'the ACME server stopped answering (network error)' : (err as Error).message;
      const message = `cannot obtain a certificate for ${k} from ${this.config.caServer}: ${why}`;
      this.failures.set(k, { message, attempts, nextAttempt: Date.now() + delay });
      this.log.error({ resolver: this.config.name, domains: k, attempt: attempts, retryInSeconds: delay / 1000, stack: (err as Error).stack }, message);
    } finally {
      if (locked) this.lock.release();
    }
  }
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A new account with Traefik's key: RSA 4096, stored as PKCS#1 DER. */
async function newAccount(email: string): Promise<StoredAccount> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 4096 });
  const der = privateKey.export({ type: 'pkcs1', format: 'der' });
  return { Email: email, Registration: null, PrivateKey: der.toString('base64'), KeyType: '4096' };
}

function accountKeyPem(account: StoredAccount): string {
  const key = createPrivateKey({ key: Buffer.from(account.PrivateKey, 'base64'), format: 'der', type: 'pkcs1' });
  return key.export({ type: 'pkcs1', format: 'pem' }).toString();
}

async function certificateKey(acme: typeof AcmeClient, type: AcmeResolverConfig['keyType']): Promise<Buffer> {
  if (type === 'EC256') return acme.crypto.createPrivateEcdsaKey('P-256');
  if (type === 'EC384') return acme.crypto.createPrivateEcdsaKey('P-384');
  return acme.crypto.createPrivateRsaKey(Number(type.slice(3)));
}

/** Resolves when the ACME directory answers 200; rejects with the network or HTTP error. */
function reachable(url: string, agent: Agent | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ...(agent ? { agent } : {}), timeout: 10_000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the ACME directory answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('the ACME directory did not answer within 10 s')));
    req.on('error', (err) => reject(new Error(`cannot reach the ACME directory: ${err.message}`)));
  });
}

// acme-client (axios with it) holds about 10 MB of heap: loaded when a resolver first orders.
let lib: Promise<typeof AcmeClient> | null = null;
let loaded: typeof AcmeClient | null = null;

function acmeLib(): Promise<typeof AcmeClient> {
  lib ??= import('acme-client').then(({ default: acme }) => {
    loaded = acme;
    applyTrust();
    return acme;
  });
  return lib;
}

let wanted: readonly string[] = [];
let trusted = '';

/** acme-client talks through one axios instance: trust the resolvers' private CAs beside the system's. */
export function trustAcmeCas(pems: readonly string[]): void {
  wanted = pems;
  applyTrust();
}

function applyTrust(): void {
  const k = wanted.join('\n');
  if (loaded === null || k === trusted || wanted.length === 0) return;
  trusted = k;
  loaded.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ...wanted], keepAlive: true });
}
