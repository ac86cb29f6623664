// `npm run bench`: the end-to-end benchmark sections in order (load, idle sockets, data growth),
// each from its own module's `run(options)`; prints the Markdown tables and writes
// tests/bench/results/<timestamp>.json.
//
//   npm run bench -- [--quick] [--only load,idle-sockets,data-growth] [--nodes N]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeMachine, runMarkdown, saveRun, type BenchOptions, type BenchRun, type BenchSection } from './report.ts';
import { stopEverything } from './interrupt.ts';

const SECTIONS = ['load', 'idle-sockets', 'data-growth'] as const;
type SectionName = (typeof SECTIONS)[number];

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--nodes N]\n`);
  process.exit(2);
}

function parseArguments(argv: string[]): { quick: boolean; only: SectionName[]; nodes: number } {
  let quick = false;
  let only: SectionName[] = [...SECTIONS];
  let nodes = 1;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const [flag, inline] = argument.split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++index] ?? usage(`${flag} needs a value`);
    if (flag === '--quick') quick = true;
    else if (flag === '--only') {
      const names = value().split(',').map((name) => name.trim()).filter(Boolean);
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
      if (unknown.length > 0 || names.length === 0) usage(`unknown section in --only: ${unknown.join(', ') || '(none)'}`);
      only = SECTIONS.filter((name) => names.includes(name));
    } else if (flag === '--nodes') {
      nodes = Number(value());
      if (!Number.isInteger(nodes) || nodes < 1) usage('--nodes must be a whole number ≥ 1');
    } else usage(`unknown argument ${argument}`);
  }
  return { quick, only, nodes };
}

const { quick, only, nodes } = parseArguments(process.argv.slice(2));
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const options: BenchOptions = { quick, nodes, log };
if (nodes > 1) log(`--nodes ${nodes}: the load section runs ${nodes} Charla nodes on one replica set; the other sections run one`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping the benchmark's processes`);
    stopEverything();
    process.exit(130);
  });
}

const run: BenchRun = { date: new Date().toISOString(), machine: describeMachine(), quick, nodes, sections: [] };
const started = performance.now();
let failed = false;
for (const name of only) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  // Sections written alongside this one may not exist yet in a checkout: skip them, say so.
  if (!existsSync(file)) {
    log(`${name}: tests/bench/${name}.ts is not there; skipped`);
    continue;
  }
  const sectionStarted = performance.now();
  log(`${name}: starting${quick ? ' (quick)' : ''}`);
  try {
    const module = (await import(file)) as { run(options: BenchOptions): Promise<BenchSection> };
    run.sections.push(await module.run(options));
    log(`${name}: done in ${((performance.now() - sectionStarted) / 1000).toFixed(1)} s`);
  } catch (error) {
    failed = true;
    log(`${name}: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  stopEverything();
}

if (run.sections.length > 0) {
  process.stdout.write(`${runMarkdown(run)}\n`);
  log(`results: ${await saveRun(run)} (${((performance.now() - started) / 1000).toFixed(1)} s in all)`);
}
process.exit(failed ? 1 : 0);
