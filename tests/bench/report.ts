// What every benchmark section returns, and how the runner prints and stores it: one Markdown table
// per section (for the terminal and the README) and one JSON file per run under results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface BenchOptions {
  /** A short run (`npm run bench -- --quick`): the whole benchmark in under a minute. */
  quick: boolean;
  /** How many Charla server processes share the database. */
  nodes: number;
  /** Progress lines for the terminal (stderr), never part of the results. */
  log(line: string): void;
}

export interface BenchRow {
  measure: string;
  value: number | string;
  unit: string;
  /** The goal this figure is held against, as text ("≥ 5,000"), when there is one. */
  target?: string;
  /** The same measure for the baseline (a bare transport), when the section has one. */
  baseline?: number | string;
  /** value / baseline, or how the two compare, written out. */
  ratio?: string;
}

export interface BenchSection {
  /** Stable key in the JSON file: 'load', 'idle-sockets', 'data-growth', … */
  name: string;
  title: string;
  rows: BenchRow[];
  /** Conditions of the run (sizes, rates) and caveats, printed under the table. */
  notes: string[];
  /** Anything else worth keeping in the JSON file (histogram percentiles, samples). */
  details?: unknown;
}

export interface BenchRun {
  date: string;
  machine: string;
  quick: boolean;
  nodes: number;
  sections: BenchSection[];
}

export function describeMachine(): string {
  const processors = cpus();
  const model = processors[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `${processors.length} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
}

const format = (value: number | string | undefined): string => {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
};

export function sectionTable(section: BenchSection): string {
  const withBaseline = section.rows.some((row) => row.baseline !== undefined);
  const withTarget = section.rows.some((row) => row.target !== undefined);
  const header = ['measure', 'Charla', ...(withBaseline ? ['baseline', 'ratio'] : []), 'unit', ...(withTarget ? ['target'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((name, index) => (index === 0 || name === 'unit' || name === 'target' ? '---' : '---:')).join('|')}|`];
  for (const row of section.rows) {
    const cells = [row.measure, format(row.value), ...(withBaseline ? [format(row.baseline), row.ratio ?? ''] : []), row.unit, ...(withTarget ? [row.target ?? ''] : [])];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function runMarkdown(run: BenchRun): string {
  const parts = [`Benchmark of ${run.date.slice(0, 10)} on ${run.machine}${run.quick ? ' (quick run)' : ''}${run.nodes > 1 ? `, ${run.nodes} nodes` : ''}:`];
  for (const section of run.sections) {
    parts.push(`**${section.title}**`, sectionTable(section));
    if (section.notes.length > 0) parts.push(section.notes.map((note) => `* ${note}`).join('\n'));
  }
  return parts.join('\n\n');
}

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes results/<timestamp>.json and returns its path. */
export async function saveRun(run: BenchRun): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${run.date.replace(/[:.]/g, '-')}.json`;
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}
