// Runs the idle-socket and data-growth sections with chosen sizes, writing one results file.
import { describeMachine, runMarkdown, saveRun, type BenchRun } from './report.ts';
import { run as idle } from './idle-sockets.ts';
import { run as growth } from './data-growth.ts';
const options = { quick: false, nodes: 1, log: (line: string) => process.stderr.write(`${line}\n`) };
const sections = [];
sections.push(await idle(options, { sizes: [1_000, 5_000, 10_000] }));
sections.push(await growth(options, { sizes: [10_000, 100_000] }));
const result: BenchRun = { date: new Date().toISOString(), machine: describeMachine(), quick: false, nodes: 1, sections };
console.log(runMarkdown(result));
console.error(await saveRun(result));
process.exit(0);
