export * from './config.js';
export * from './dump-run.js';
export * from './engine.js';
export * from './worker-service.js';
