// Main thread: everything TLS entry points serve. Certificates come from the
// dynamic configuration (checked when the table compiles), from ACME
// resolvers, and a default (configured, else generated); the store turns
// them into the files workers load, and pushes every change to them.
import type { Logger } from 'pino';
import { ChallengeBoard } from '../acme/challenges.js';
import { ACME_TICK_MS, AcmeResolver, trustAcmeCas, type ResolverStatus } from '../acme/resolver.js';
import type { StaticConfig } from '../config/static.js';
import type { CompileInput, CompiledTls } from '../table/compile.js';
import type { LoadedCertificate } from './certificate.js';
import { generateDefaultCertificate } from './default-certificate.js';
import { CertificateLoader } from './loader.js';
import { CertificateStore, type ServedCertificates } from './store.js';

export interface HttpsEvents {
  certificates(served: ServedCertificates): void;
  challenges(challenges: [string, string][]): void;
}

export class HttpsManager {
  readonly store: CertificateStore | null;
  readonly resolvers: AcmeResolver[];
  private readonly loader = new CertificateLoader();
  private readonly board: ChallengeBoard;
  private generated: LoadedCertificate | null = null;
  private configuredDefault: LoadedCertificate | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: StaticConfig,
    servedEntryPoints: readonly string[],
    events: HttpsEvents,
    log: Logger,
  ) {
    const tlsEntryPoints = servedEntryPoints.filter((n) => config.entryPoints[n]?.tls != null);
    this.store = tlsEntryPoints.length > 0 ? new CertificateStore() : null;
    this.store?.onChange((served) => events.certificates(served));
    this.board = new ChallengeBoard(
      config.certificatesResolvers.map((r) => `${r.storage}.challenges`),
      (c) => events.challenges(c),
    );
    trustAcmeCas(config.certificatesResolvers.flatMap((r) => r.caCertificates));
    this.resolvers = config.certificatesResolvers.map(
      (r) => new AcmeResolver(r, this.board, (certs) => this.store?.set(`acme:${r.name}`, certs), log.child({ resolver: r.name })),
    );
  }

  /** What the table compiler needs to place TLS routers and check their certificates. */
  compileOptions(servedEntryPoints: readonly string[]): NonNullable<Pick<CompileInput, 'entryPointTls' | 'defaultEntryPoints' | 'resolvers' | 'certificates' | 'staticCertificates'>> {
    const c = this.config;
    return {
      entryPointTls: new Map(servedEntryPoints.map((n) => [n, c.entryPoints[n]?.tls ?? null])),
      ...(c.defaultEntryPoints !== undefined ? { defaultEntryPoints: c.defaultEntryPoints.filter((n) => servedEntryPoints.includes(n)) } : {}),
      resolvers: c.certificatesResolvers.map((r) => r.name),
      certificates: this.loader,
      staticCertificates: c.staticCertificates,
    };
  }

  /** Before the first table: the generated default, needed when no default certificate is configured. */
  async prepare(): Promise<void> {
    if (this.store === null) return;
    this.generated = await generateDefaultCertificate();
    this.store.setDefault(this.configuredDefault ?? this.generated);
  }

  /** After each compilation: the configuration's certificates and what the resolvers must order. */
  compiled(tls: CompiledTls): void {
    if (this.store !== null) {
      this.store.set('file', tls.certificates);
      this.configuredDefault = tls.defaultCertificate;
      const chosen = this.configuredDefault ?? this.generated;
      if (chosen !== null) this.store.setDefault(chosen);
    }
    for (const r of this.resolvers) r.want(tls.acme.get(r.config.name) ?? []);
  }

  start(): void {
    for (const r of this.resolvers) r.start();
    if (this.resolvers.length === 0) return;
    // One timer for all resolvers: the challenge folders are read once per tick, not once per resolver.
    this.timer = setInterval(() => {
      this.board.refresh();
      for (const r of this.resolvers) r.tick();
    }, ACME_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const r of this.resolvers) r.stop();
    this.store?.close();
  }

  /** What Traefik's API lists: every certificate loaded and a configured default, not the generated one. */
  servedCertificates(): LoadedCertificate[] {
    if (this.store === null) return [];
    const byId = new Map(this.store.all().map((c) => [c.id, c]));
    if (this.configuredDefault !== null) byId.set(this.configuredDefault.id, this.configuredDefault);
    return [...byId.values()];
  }

  status(): ResolverStatus[] {
    return this.resolvers.map((r) => r.status());
  }
}
