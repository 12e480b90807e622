import type { z } from 'zod';

/** A configuration a service cannot start with; `loadConfigOrExit` prints it and exits 2. */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
}

/** Parses the environment once with the service's schema; every problem names its variable. */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

/** A service's `main` starts with this: its configuration, or the reason it has none and exit 2. */
export function loadConfigOrExit<Config>(load: () => Config): Config {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
