// NAME=VALUE pairs given on a bench's command line (`--worker-env`, `--gateway-env`), as an
// environment for the processes it starts.

/** `pairs` as an environment: each pair's name up to its first `=`, its value after it. */
export function envOfPairs(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
}
