export type { InfoFileDocument, InfoFileHeader, InfoFileStatus } from './info-file-document.js';
export { formatItemTime } from './format-item-time.js';
export { InfoFileWriter } from './info-file-writer.js';
export type { InfoFileWriterOptions } from './info-file-writer.js';
export { InfoFileFormatError, parseInfoFile } from './parse-info-file.js';
export { XmlSyntaxError } from './xml-reader.js';
