import { Command, CommanderError, Option } from 'commander';
import { HERD_VERSION } from '../config/index.js';
import { ExitCode, HerdError, isHerdError } from '../errors/index.js';
import { processIO, type CliIO } from './io.js';
import { runCommand, type RunFlags } from './run-command.js';
// Commands other than `run` are loaded when invoked: the server's and agent's dependencies
// (HTTP framework, database drivers, NATS) would otherwise cost every `herd run` start-up
// time and tens of megabytes of resident memory that its VUs could use.
import type { ServerFlags } from './server-command.js';
import type { AgentFlags } from './agent-command.js';
import type { ArchiveFlags } from './archive-command.js';
import type { CloudFlags, CloudRunFlags } from './cloud-command.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Builds the `herd` command tree; actions store their exit code in `result`. */
function program(io: CliIO, result: { code: number }): Command {
  const root = new Command('herd')
    .description('herd: run k6 test scripts locally or on a self-hosted load-testing cloud')
    .version(HERD_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  root
    .command('run')
    .description('run a k6 test script (.js or .ts) on this machine')
    .argument('<script>', 'the test script')
    .option('-u, --vus <n>', 'number of virtual users')
    .option('-d, --duration <duration>', 'test duration, e.g. 30s, 1m30s')
    .option('-i, --iterations <n>', 'total iterations shared by the VUs')
    .option('-s, --stage <duration:target>', 'a ramping stage, repeatable (e.g. -s 10s:5 -s 20s:0)', collect)
    .option('-e, --env <KEY=VALUE>', 'an __ENV variable for the script, repeatable', collect)
    .option('--tag <KEY=VALUE>', 'a tag added to every sample, repeatable', collect)
    .option('-c, --config <file>', 'a JSON config file of k6 options')
    .option('--summary-export <file>', 'write the end-of-test summary as JSON to a file')
    .option('--summary-trend-stats <stats>', 'trend stats in the summary, e.g. "avg,p(95),p(99.9)"')
    .option('--summary-time-unit <unit>', 'time unit of trend values in the summary: s, ms or us')
    .option('--system-tags <tags>', 'the system tags to attach to samples, comma separated')
    .option('-o, --out <type=file>', 'stream samples to an output: json=FILE or csv=FILE, repeatable', collect)
    .option('-q, --quiet', 'no progress display')
    .option('--no-summary', 'do not print the end-of-test summary')
    .option('--no-color', 'no colors in the output')
    .option('--include-system-env-vars', 'pass the process environment to __ENV (default)', true)
    .option('--no-include-system-env-vars', 'do not pass the process environment to __ENV')
    .option('--user-agent <ua>', 'the User-Agent header of requests')
    .option('--insecure-skip-tls-verify', 'do not verify TLS certificates')
    .option('--max-redirects <n>', 'how many redirects to follow (default 10)')
    .option('--batch <n>', 'max parallel requests of one http.batch() call (default 20)')
    .option('--batch-per-host <n>', 'max parallel requests per host in http.batch() (default 6)')
    .option('--no-connection-reuse', 'do not keep connections alive')
    .option('--no-vu-connection-reuse', 'do not reuse connections across iterations')
    .option('--discard-response-bodies', 'read and drop response bodies (less memory)')
    .option('--no-setup', 'do not run setup()')
    .option('--no-teardown', 'do not run teardown()')
    .option('-w, --throw', 'throw on failed HTTP requests')
    .option('--workers <n>', 'worker threads to spread VUs over (default: one per CPU core)')
    .addOption(new Option('--execution-segment <segment>', 'the part of the test this instance runs, e.g. 0:1/2'))
    .addOption(new Option('--execution-segment-sequence <sequence>', 'all segments of the test, e.g. 0,1/2,1'))
    .action(async (script: string, flags: RunFlags) => {
      result.code = await runCommand(script, flags, io);
    });

  root
    .command('archive')
    .description("pack a script, its imports and the files it open()s into a k6-format archive (like `k6 archive`)")
    .argument('<script>', 'the test script')
    .option('-O, --archive-out <file>', 'where to write the archive', 'archive.tar')
    .option('-u, --vus <n>', 'number of virtual users')
    .option('-d, --duration <duration>', 'test duration')
    .option('-i, --iterations <n>', 'total iterations')
    .option('-s, --stage <duration:target>', 'a ramping stage, repeatable', collect)
    .option('-e, --env <KEY=VALUE>', 'an __ENV variable stored in the archive, repeatable', collect)
    .option('--tag <KEY=VALUE>', 'a tag added to every sample, repeatable', collect)
    .option('-c, --config <file>', 'a JSON config file of k6 options')
    .option('-q, --quiet', 'print nothing on success')
    .option('--no-color', 'no colors in the output')
    .action(async (script: string, flags: ArchiveFlags) => {
      result.code = await (await import('./archive-command.js')).archiveCommand(script, flags, io);
    });

  root
    .command('target')
    .description('start the built-in demo/test target (httpbin-style endpoints and a WebSocket echo)')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '8099')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (flags: { port: string; host: string }) => {
      result.code = await (await import('./target-command.js')).targetCommand(flags, io);
    });
  root
    .command('server')
    .description("start the control plane: API, embedded database and a load generator in zone 'local'")
    .option('-p, --port <port>', 'port of the API', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--data-dir <dir>', 'where the embedded SQLite database lives', '.herd')
    .option('--database <url>', 'keep state in PostgreSQL instead (postgres://…; or HERD_DATABASE)')
    .option('--database-schema <name>', "PostgreSQL schema for herd's tables, default public (HERD_DATABASE_SCHEMA)")
    .option('--name <name>', 'this replica\'s name: its lead of runs and its NATS consumer; default <hostname>-<port> (HERD_SERVER_NAME)')
    .option('--no-agent', 'do not start the embedded load generator')
    .option('--agent-capacity <vus>', 'VUs the embedded load generator takes', '20000')
    .option('--launch-timeout <duration>', 'how long a run waits for a generator in its zone (HERD_LAUNCH_TIMEOUT)')
    .option('--agent-grace <duration>', 'how long a lost generator may stay away before its runs end (HERD_AGENT_GRACE)')
    .option('--run-timeout <duration>', 'how long a run may hear nothing from its generators (HERD_RUN_TIMEOUT)')
    .option('--heartbeat <duration>', 'how often generators report CPU and memory (HERD_HEARTBEAT)')
    .option('--run-lease <duration>', 'how long a replica\'s lead of a live run lasts unless renewed, default 10s (HERD_RUN_LEASE)')
    .option('--nats <url>', 'talk to load generators through NATS with JetStream, nats://… (HERD_NATS)')
    .option('--nats-prefix <prefix>', 'NATS subject prefix shared with the agents, default herd (HERD_NATS_PREFIX)')
    .action(async (flags: ServerFlags) => {
      result.code = await (await import('./server-command.js')).serverCommand(flags, io);
    });

  root
    .command('agent')
    .description('run a load generator: standalone with --nats, or as the embedded generator of herd server')
    .option('--zone <name>', 'load zone', 'local')
    .option('--id <id>', 'generator id (default: hostname-pid)')
    .option('--capacity <vus>', 'VUs this generator takes', '20000')
    .option('--heartbeat <duration>', 'how often to report CPU and memory', '1s')
    .option('--nats <url>', 'connect to the control plane through NATS, nats://… (HERD_NATS)')
    .option('--nats-prefix <prefix>', 'NATS subject prefix shared with the control plane, default herd (HERD_NATS_PREFIX)')
    .action(async (flags: AgentFlags) => {
      result.code = await (await import('./agent-command.js')).agentCommand(flags, io);
    });

  const cloud = root.command('cloud').description('run and manage test runs on a herd server (HERD_HOST, HERD_TOKEN)');
  const cloudOptions = (c: Command): Command =>
    c.option('--host <url>', 'the herd server (default HERD_HOST or http://127.0.0.1:8080)').option('--token <token>', 'API token (default HERD_TOKEN)');
  cloudOptions(
    cloud
      .command('run')
      .description('pack a script, run it on the herd server and follow it to its end')
      .argument('<script>', 'the test script')
      .option('-u, --vus <n>', 'number of virtual users')
      .option('-d, --duration <duration>', 'test duration')
      .option('-i, --iterations <n>', 'total iterations')
      .option('-s, --stage <duration:target>', 'a ramping stage, repeatable', collect)
      .option('-e, --env <KEY=VALUE>', 'an __ENV variable for the script, repeatable', collect)
      .option('--tag <KEY=VALUE>', 'a tag added to every sample, repeatable', collect)
      .option('-c, --config <file>', 'a JSON config file of k6 options')
      .option('--name <name>', 'test name (default: options.cloud.name or the file name)')
      .option('--project <id>', 'project id (default: the first project)')
      .option('--no-follow', 'return once the run is created')
      .option('-q, --quiet', 'no progress display')
      .option('--no-color', 'no colors in the output'),
  ).action(async (script: string, flags: CloudRunFlags) => {
    result.code = await (await import('./cloud-command.js')).cloudRunCommand(script, flags, io);
  });
  cloudOptions(cloud.command('status').description("a run's status, result and reason").argument('<run-id>')).action(
    async (id: string, flags: CloudFlags) => {
      result.code = await (await import('./cloud-command.js')).cloudStatusCommand(id, flags, io);
    },
  );
  cloudOptions(cloud.command('abort').description('abort a run (Aborted by user)').argument('<run-id>')).action(async (id: string, flags: CloudFlags) => {
    result.code = await (await import('./cloud-command.js')).cloudAbortCommand(id, flags, io);
  });
  cloudOptions(cloud.command('ls').description('list recent runs').option('--status <codes>', 'only these status codes, e.g. 0,1,2').option('--limit <n>', 'how many', '20')).action(
    async (flags: CloudFlags & { status?: string; limit?: string }) => {
      result.code = await (await import('./cloud-command.js')).cloudListCommand(flags, io);
    },
  );

  root
    .command('demo')
    .description('start the built-in target and run the quickstart test against it')
    .option('-u, --vus <n>', 'number of virtual users')
    .option('-d, --duration <duration>', 'test duration, e.g. 30s')
    .option('-q, --quiet', 'no progress display')
    .option('--no-color', 'no colors in the output')
    .action(async (flags: RunFlags) => {
      result.code = await (await import('./demo-command.js')).demoCommand(flags, io);
    });
  return root;
}

/** Runs the CLI with `argv` (without node and script path) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const result = { code: 0 };
  try {
    await program(io, result).parseAsync(argv as string[], { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with code 0; usage errors are config errors (k6: 104).
      if (e.exitCode === 0) return 0;
      if (e.code === 'commander.help' || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return ExitCode.invalidConfig;
    }
    if (isHerdError(e)) {
      io.stderr(`error: ${e.message}\n${e.hint === undefined ? '' : `hint: ${e.hint}\n`}`);
      return e.exitCode;
    }
    io.stderr(`herd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.genericEngine;
  }
}

export { HerdError };
