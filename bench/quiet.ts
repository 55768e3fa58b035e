// The machine may be shared: before a measurement, wait (bounded) until
// processes the bench did not start use little CPU, so that runs compare
// like with like. What was seen is returned for the report.
import { CLK_TCK, cpuTimesOf, machineCpu } from './proc.js';
import { ourPids } from './spawn.js';

/** Cores used over sampleMs by processes outside the bench. */
export async function othersCores(sampleMs = 1000): Promise<number> {
  const ours = () => {
    const t = cpuTimesOf(ourPids());
    return t.user + t.sys;
  };
  const [m0, o0, t0] = [machineCpu(), ours(), process.hrtime.bigint()];
  await new Promise((r) => setTimeout(r, sampleMs));
  const [m1, o1, t1] = [machineCpu(), ours(), process.hrtime.bigint()];
  const s = Number(t1 - t0) / 1e9;
  return Math.max(0, ((m1.tasks - m0.tasks) / CLK_TCK - (o1 - o0)) / s);
}

export interface Quiet {
  /** Seconds waited. */
  waitedS: number;
  /** Other processes' cores in the last sample. */
  othersCores: number;
}

/** Samples once a second until others use < thresholdCores, for at most maxWaitS. */
export async function waitForQuiet(thresholdCores: number, maxWaitS: number): Promise<Quiet> {
  const start = Date.now();
  for (;;) {
    const others = await othersCores();
    const waitedS = (Date.now() - start) / 1000;
    if (others < thresholdCores || waitedS >= maxWaitS) return { waitedS: Math.round(waitedS), othersCores: others };
  }
}
