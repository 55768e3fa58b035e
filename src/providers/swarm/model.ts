// What the Swarm provider reads from the Docker API, reduced to what routing
// needs. client.ts fills it from dockerode; labels.ts turns it into a
// DynamicConfig. Keeping this boundary plain data lets the label logic be
// tested without an engine.

export interface SwarmTask {
  id: string;
  /** As Traefik names the task's container: "<service>.<slot>", or "<service>.<task ID>" for a global service ("whoami_whoami.2"). */
  name: string;
  /** Network name -> this task's IP addresses on it (no prefix length). */
  addresses: Record<string, string[]>;
}

export interface SwarmService {
  id: string;
  /** The Swarm service name, e.g. "whoami_whoami" (stack prefix included). */
  name: string;
  /** Service-level labels (`deploy.labels` in a stack file). */
  labels: Record<string, string>;
  /** Names of the networks the service's tasks are attached to. */
  networks: string[];
  /** Network name -> the service's virtual IP there (endpoint mode vip only). */
  vips: Record<string, string>;
  /** Tasks whose desired and current state are both "running". */
  tasks: SwarmTask[];
}

export interface SwarmSnapshot {
  services: SwarmService[];
  /** Networks portero's own container is attached to, when it runs in one. */
  ownNetworks: string[] | null;
}

export interface SwarmProviderOptions {
  /** Serve services without `traefik.enable=true` (Traefik's default: true). */
  exposedByDefault: boolean;
  /** --providers.swarm.network: the network whose task IPs are used. */
  network?: string;
  /** Go template for services without a rule, default "Host(`{{ normalize .Name }}`)". */
  defaultRule: string;
  /** Traefik constraints expression over labels, e.g. "Label(`a`,`b`) && !LabelRegex(`c`,`x.*`)". */
  constraints?: string;
}
