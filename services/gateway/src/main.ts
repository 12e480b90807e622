import { loadConfigOrExit } from '@hlsdump/contracts';
import { loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';

/** The gateway process: configuration from the environment, then listen. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(loadConfig);
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
