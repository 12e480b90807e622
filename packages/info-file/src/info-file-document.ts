export type InfoFileStatus = 'Running' | 'Completed' | 'Error';

export interface InfoFileHeader {
  /** `/{vhost}/{app}/{outputStreamName}` */
  stream: string;
  userData?: string;
}

/** An infoFile as read back; `time` is kept as written (ISO 8601 text). */
export interface InfoFileDocument {
  userData?: string;
  stream: string;
  status: InfoFileStatus;
  error?: string;
  items: { seq: number; time: string; file: string }[];
}
