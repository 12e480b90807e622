import { ConfigError, loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';

/** The gateway process: configuration from the environment, then listen. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, 'hlsdump-gateway');
  const gateway = await createGateway(config, { logger });
  gateway.shutdown.installSignalHandlers();
  const server = gateway.app.listen(config.port, config.host, () => {
    const address = server.address();
    logger.info(
      { address, queue: config.queueName, prefix: config.redisPrefix },
      'gateway listening',
    );
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'gateway server failed');
    void gateway.shutdown.close().finally(() => process.exit(1));
  });
  gateway.attachServer(server);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hlsdump gateway failed to start: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exit(1);
});
