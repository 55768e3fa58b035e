// The part of autocannon's programmatic API the bench uses (the package
// ships no types).
declare module 'autocannon' {
  interface Options {
    url: string | string[];
    connections?: number;
    pipelining?: number;
    duration?: number;
    timeout?: number;
    /** Requests per second across all connections. */
    overallRate?: number;
    expectBody?: string;
    /** Called with each response body (a string); false counts a mismatch. */
    verifyBody?: (body: string) => boolean;
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    /** Cycled through on every connection; each merges into the defaults. */
    requests?: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }[];
  }
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
    [k: string]: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    latency: Histogram;
    requests: Histogram & { sent: number };
    throughput: Histogram;
  }
  interface Instance extends PromiseLike<Result> {
    /** Emitted per response; responseTime in milliseconds (fractional). */
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
