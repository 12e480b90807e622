export { startAllInOne, type AllInOne } from './all-in-one.js';
export { loadConfig, ConfigError, type AllInOneConfig } from './config.js';
export { instructions, shellQuote, type RunningSetup } from './instructions.js';
