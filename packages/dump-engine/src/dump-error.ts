/** A dump could not start or had to end; `code` is stable and mapped to HTTP answers by the gateway. */
export class DumpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DumpError';
  }
}

/** Turns whatever a part of the engine threw into a code and a sentence for the status and the infoFile. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}
