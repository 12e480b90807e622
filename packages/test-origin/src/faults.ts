// Misbehaviours a test can switch on for one stream; each is consumed per matching request.

interface CountedRule {
  readonly match: RegExp | undefined;
  remaining: number;
}

interface FailureRule extends CountedRule {
  readonly status: number;
}

interface StallRule extends CountedRule {
  readonly ms: number;
}

export class StreamFaults {
  latencyMs = 0;
  readonly missingSegments = new Set<number>();
  readonly discontinuities = new Set<number>();
  readonly #failures: FailureRule[] = [];
  readonly #drops: CountedRule[] = [];
  readonly #stalls: StallRule[] = [];

  addFailures(count: number, status: number, match?: RegExp): void {
    if (count > 0) this.#failures.push({ match, remaining: count, status });
  }

  addDrops(match: RegExp, count: number): void {
    if (count > 0) this.#drops.push({ match, remaining: count });
  }

  addStall(match: RegExp, ms: number, count: number): void {
    if (count > 0) this.#stalls.push({ match, remaining: count, ms });
  }

  /** Status to fail this request with, if a failure burst covers it. */
  takeFailure(path: string): number | undefined {
    return take(this.#failures, path)?.status;
  }

  takeDrop(path: string): boolean {
    return take(this.#drops, path) !== undefined;
  }

  /** Milliseconds to stall this response mid-body, if a stall rule covers it. */
  takeStall(path: string): number | undefined {
    return take(this.#stalls, path)?.ms;
  }
}

function take<T extends CountedRule>(rules: T[], path: string): T | undefined {
  const index = rules.findIndex(
    (r) => r.remaining > 0 && (r.match === undefined || testRegExp(r.match, path)),
  );
  const rule = rules[index];
  if (!rule) return undefined;
  if (--rule.remaining === 0) rules.splice(index, 1);
  return rule;
}

// A /g or /y RegExp keeps lastIndex between test() calls; reset it so every path is judged alike.
function testRegExp(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}
