/**
 * Errors of the cluster's protocol. Each has a stable `code`; the gateway's `http-errors.ts` is the
 * one place that turns codes into HTTP status codes and OME's message texts.
 */
export class HlsDumpClusterError<C extends ClusterErrorCode = ClusterErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Each code of the cluster's protocol, with the error that carries it. */
export interface ClusterErrors {
  DUPLICATE_ID: DuplicateIdError;
  DUPLICATE_INFO_FILE: DuplicateInfoFileError;
  PROTOCOL: ProtocolError;
}
export type ClusterErrorCode = keyof ClusterErrors;

/** An active dump already has this id on this output stream. */
export class DuplicateIdError extends HlsDumpClusterError<'DUPLICATE_ID'> {
  constructor(readonly id: string) {
    super('DUPLICATE_ID', `Duplicate ID: ${id}`);
  }
}

/** The infoFile is reserved by an active dump (or exists on disk). */
export class DuplicateInfoFileError extends HlsDumpClusterError<'DUPLICATE_INFO_FILE'> {
  constructor(readonly infoFile: string) {
    super('DUPLICATE_INFO_FILE', `Duplicate info file: ${infoFile}`);
  }
}

/** A message read from Redis (job data, pub/sub payload, record) did not have the expected shape. */
export class ProtocolError extends HlsDumpClusterError<'PROTOCOL'> {
  constructor(message: string) {
    super('PROTOCOL', message);
  }
}
