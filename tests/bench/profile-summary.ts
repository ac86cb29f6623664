// Sums a V8 .cpuprofile (node --cpu-prof) by function and by package, self time first, to read
// what a benchmark run spent its CPU on:
//
//   node --import tsx tests/bench/profile-summary.ts <file.cpuprofile> [top N] [--from SECONDS]
//
// --from skips the samples of the first SECONDS (a benchmark's setup), to read the steady state.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const fromIndex = process.argv.indexOf('--from');
const fromSeconds = fromIndex > 0 ? Number(process.argv[fromIndex + 1]) : 0;
const [file, topArgument] = process.argv.slice(2).filter((_, index, all) => all[index] !== '--from' && all[index - 1] !== '--from');
if (!file) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top N]\n');
  process.exit(2);
}
const top = Number(topArgument ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

const selfMicros = new Map<number, number>();
let elapsedMicros = 0;
profile.samples.forEach((id, index) => {
  elapsedMicros += profile.timeDeltas[index] ?? 0;
  if (elapsedMicros >= fromSeconds * 1e6) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

/** Where a script lives, shortened: a package name, or the path inside the repository. */
function placeOf(url: string): string {
  if (!url) return '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const inRepository = /\/((?:server|rules|channels|embedded-mongo|tests)\/.*)$/.exec(url);
  return inRepository ? inRepository[1]! : url;
}

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const place = placeOf(url);
  const name = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  const packageName = place.includes('/') && !place.startsWith('@') ? place.split('/').slice(0, 2).join('/') : place;
  byPlace.set(packageName, (byPlace.get(packageName) ?? 0) + micros);
}

// Inclusive time of the repository's own functions: what each one costs with what it calls.
const inclusive = new Map<number, number>();
const inclusiveOf = (id: number): number => {
  const known = inclusive.get(id);
  if (known !== undefined) return known;
  const node = nodes.get(id)!;
  const value = (selfMicros.get(id) ?? 0) + (node.children ?? []).reduce((sum, child) => sum + inclusiveOf(child), 0);
  inclusive.set(id, value);
  return value;
};
const byOwnFunction = new Map<string, number>();
const onStack = new Set<string>();
const walk = (id: number): void => {
  const node = nodes.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const place = placeOf(url);
  const own = /^(server|rules|channels)\//.test(place);
  const name = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
  // A function already on the stack (recursion, nested awaits) is counted once.
  const counted = own && !onStack.has(name);
  if (counted) {
    byOwnFunction.set(name, (byOwnFunction.get(name) ?? 0) + inclusiveOf(id));
    onStack.add(name);
  }
  for (const child of node.children ?? []) walk(child);
  if (counted) onStack.delete(name);
};
walk(profile.nodes[0]!.id);

const print = (title: string, entries: Map<string, number>, count: number): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s of samples\n`);
print('self time by function', byFunction, top);
print('self time by package or folder', byPlace, 20);
print("inclusive time of the repository's functions (synchronous part of each call)", byOwnFunction, top);
