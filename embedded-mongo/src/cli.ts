// The `embedded-mongo` command: a mongod-compatible command line, so tools that start mongod
// (mongodb-memory-server through MONGOMS_SYSTEM_BINARY, scripts) can start this instead.
import { MONGOD_VERSION } from './commands/context.ts';
import { WireServer } from './server.ts';

interface CliOptions {
  port: number;
  host: string;
  dbPath?: string;
  ttlMonitorSleepSecs?: number;
  cursorTimeoutMillis?: number;
  replSet?: string;
}

const USAGE = `Usage: embedded-mongo [--port N] [--dbpath DIR] [--bind_ip IP | --bind_ip_all] [--replSet NAME]
                      [--setParameter ttlMonitorSleepSecs=N] [--setParameter cursorTimeoutMillis=N] [--version]
--replSet NAME: a single-member replica set (change streams, retryable writes); primary after replSetInitiate,
                and at once on restart with a --dbpath that holds its config
Accepted for mongod compatibility and ignored: --storageEngine E, --noauth, --quiet, --nounixsocket, --oplogSize MB`;

function log(severity: 'I' | 'W' | 'E', component: string, id: number, msg: string, attr?: Record<string, unknown>): void {
  const line: Record<string, unknown> = { t: { $date: new Date().toISOString() }, s: severity, c: component, id, ctx: 'main', msg };
  if (component === 'NETWORK' && id === 23016) line.ctx = 'listener';
  if (attr) line.attr = attr;
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

export function parseArgs(argv: string[]): CliOptions | 'version' | 'help' {
  const options: CliOptions = { port: 27017, host: '127.0.0.1' };
  let bindAll = false;
  let requestedHosts: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`Error parsing command line: required parameter is missing in '${arg}'`);
      return v;
    };
    switch (arg) {
      case '--version':
        return 'version';
      case '--help':
      case '-h':
        return 'help';
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Error parsing command line: invalid port`);
        options.port = port;
        break;
      }
      case '--dbpath':
        options.dbPath = value();
        break;
      case '--bind_ip':
        requestedHosts = value().split(',').map((h) => h.trim()).filter(Boolean);
        break;
      case '--bind_ip_all':
        bindAll = true;
        break;
      case '--setParameter': {
        const [key, raw] = value().split('=');
        if (key === 'ttlMonitorSleepSecs' && Number(raw) >= 1) options.ttlMonitorSleepSecs = Number(raw);
        if (key === 'cursorTimeoutMillis' && Number(raw) >= 0) options.cursorTimeoutMillis = Number(raw);
        break;
      }
      case '--replSet':
        options.replSet = value();
        break;
      case '--storageEngine':
      case '--logpath':
      case '--oplogSize':
      case '--wiredTigerCacheSizeGB':
        value();
        break;
      case '--noauth':
      case '--quiet':
      case '--nounixsocket':
      case '--journal':
      case '--ipv6':
        break;
      default:
        throw new Error(`Error parsing command line: unrecognised option '${arg}'`);
    }
  }
  if (bindAll) {
    options.host = '0.0.0.0';
  } else if (requestedHosts) {
    // Without --bind_ip_all only loopback addresses are served: the embedded database is local.
    const loopback = requestedHosts.find((h) => LOOPBACK.test(h));
    const refused = requestedHosts.filter((h) => !LOOPBACK.test(h));
    if (refused.length > 0) {
      log('W', 'CONTROL', 20000, 'Ignoring non-loopback bind addresses; use --bind_ip_all to listen on all interfaces', { refused });
    }
    options.host = loopback === 'localhost' || loopback === undefined ? '127.0.0.1' : loopback;
  }
  return options;
}

export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed === 'version') {
    process.stdout.write(`db version v${MONGOD_VERSION}\nBuild Info: {"version":"${MONGOD_VERSION}","gitVersion":"embedded-mongo"}\n`);
    return;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let server: WireServer;
  const shutdown = async (signal: string) => {
    log('I', 'CONTROL', 23377, 'Received signal', { signal });
    await server.stop();
    log('I', 'CONTROL', 20565, 'Now exiting');
    process.exit(0);
  };
  try {
    server = await WireServer.start({
      port: parsed.port,
      host: parsed.host,
      dbPath: parsed.dbPath,
      ttlMonitorSleepSecs: parsed.ttlMonitorSleepSecs,
      cursorTimeoutMillis: parsed.cursorTimeoutMillis,
      argv: ['embedded-mongo', ...argv],
      onShutdownRequest: () => void shutdown('shutdown command'),
      replSet: parsed.replSet,
      // mongod's line; mongodb-memory-server waits for it before it hands out the replica set.
      onPrimary: () => log('I', 'REPL', 21331, 'Transition to primary complete; database writes are now permitted'),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { codeName?: string };
    const msg = e.code === 'EADDRINUSE' ? 'Error setting up listener: Address already in use' : `Failed to start: ${e.message}`;
    log('E', e.code === 'EADDRINUSE' ? 'NETWORK' : 'STORAGE', 20568, msg, { error: e.message });
    // mongod's exit codes: 48 for a busy port, 100 for an unusable dbpath.
    process.exit(e.code === 'EADDRINUSE' ? 48 : 100);
  }
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  log('I', 'STORAGE', 22315, 'Opening storage', { dbPath: parsed.dbPath ?? null, durable: server.storage.durable });
  log('I', 'NETWORK', 23015, 'Listening on', { address: parsed.host });
  log('I', 'NETWORK', 23016, 'Waiting for connections', { port: server.port, ssl: 'off' });
  if (parsed.replSet && !server.replicaSet?.primary) {
    log('I', 'REPL', 21313, 'Did not find local replica set configuration document at startup; waiting for replSetInitiate', { replSet: parsed.replSet });
  }
}
