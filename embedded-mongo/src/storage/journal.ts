// Durable storage on disk: a snapshot plus an append-only journal of checksummed BSON records.
//
// Files in dbPath, for generation N:
//   snapshot-N.bson  the whole state when journal-N was started (absent for generation 0)
//   journal-N.log    every change after that, appended and fsynced before a write is acknowledged
// Record framing: [uint32 payload length][uint32 crc32 of payload][payload: one BSON document].
// A torn or corrupt record (a crash mid-write) ends replay; the file is truncated there.
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { openSync, closeSync, fsyncSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { deserialize, serialize } from 'bson';
import type { Doc } from '../bson-values.ts';

const HEADER = 8;
const MAX_RECORD = 64 * 1024 * 1024;

/** bson options that keep stored values as the client sent them. */
// Longs within the safe range come back as numbers, as the driver shows them to applications;
// keeping them numbers lets query operators compare them with plain numbers.
export const storedBsonOptions = {} as const;

export function frameRecord(record: Doc): Buffer {
  const payload = serialize(record);
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.set(payload, HEADER);
  return frame;
}

/** Reads whole records from a file; returns them and the byte length of the valid prefix. */
export async function readRecords(path: string): Promise<{ records: Doc[]; validBytes: number; totalBytes: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const data = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(data, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const records: Doc[] = [];
    let offset = 0;
    while (offset + HEADER <= read) {
      const length = data.readUInt32LE(offset);
      const sum = data.readUInt32LE(offset + 4);
      if (length < 5 || length > MAX_RECORD || offset + HEADER + length > read) break;
      const payload = data.subarray(offset + HEADER, offset + HEADER + length);
      if (crc32(payload) !== sum) break;
      try {
        records.push(deserialize(payload, storedBsonOptions) as Doc);
      } catch {
        break;
      }
      offset += HEADER + length;
    }
    return { records, validBytes: offset, totalBytes: size };
  } finally {
    await handle.close();
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const pad = (n: number) => String(n).padStart(6, '0');
export const journalName = (n: number) => `journal-${pad(n)}.log`;
export const snapshotName = (n: number) => `snapshot-${pad(n)}.bson`;

/** A point in the append stream where later records go to the next generation's file. */
const ROTATE = Symbol('rotate');

/**
 * The append side of the journal with group commit: records appended while a flush is running
 * are written and fsynced together by the next flush, so concurrent writers share one fsync.
 */
export class Journal {
  private pending: Array<Buffer | typeof ROTATE> = [];
  private pendingWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  /** Generation that new appends belong to. */
  generation: number;
  /** Bytes appended to the current generation's file, flushed or not. */
  size: number;
  /** Since opening: fdatasync calls and records made durable by them (serverStatus shows both). */
  readonly stats = { fsyncs: 0, records: 0 };

  private constructor(
    readonly dir: string,
    private handle: FileHandle,
    private handleGeneration: number,
    size: number,
  ) {
    this.generation = handleGeneration;
    this.size = size;
  }

  static async openAt(dir: string, generation: number, truncateTo?: number): Promise<Journal> {
    const path = join(dir, journalName(generation));
    const handle = await open(path, 'a+');
    if (truncateTo !== undefined) {
      await handle.truncate(truncateTo);
      await handle.datasync();
    }
    const { size } = await handle.stat();
    fsyncDirectory(dir);
    return new Journal(dir, handle, generation, size);
  }

  append(record: Doc): void {
    const frame = frameRecord(record);
    this.pending.push(frame);
    this.size += frame.length;
  }

  /**
   * Starts the next generation at this exact point of the append stream: everything appended
   * before goes to the current file, everything after to the new one. Synchronous, so a caller
   * can capture in-memory state for a snapshot at the same instant.
   */
  rotate(): number {
    this.pending.push(ROTATE);
    this.generation += 1;
    this.size = 0;
    return this.generation;
  }

  /** Resolves once everything appended so far is on disk. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.length === 0 && this.pendingWaiters.length === 0) return this.flushing ?? Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.pendingWaiters.push({ resolve, reject }));
    if (!this.flushing) {
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
      });
    }
    return done;
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 || this.pendingWaiters.length > 0) {
      const items = this.pending;
      const waiters = this.pendingWaiters;
      this.pending = [];
      this.pendingWaiters = [];
      try {
        let frames: Buffer[] = [];
        for (const item of items) {
          if (item === ROTATE) {
            await this.writeAndSync(frames);
            frames = [];
            await this.handle.close();
            this.handleGeneration += 1;
            this.handle = await open(join(this.dir, journalName(this.handleGeneration)), 'a+');
            fsyncDirectory(this.dir);
          } else {
            frames.push(item);
          }
        }
        await this.writeAndSync(frames);
        for (const w of waiters) w.resolve();
      } catch (error) {
        // A journal that cannot be written makes every later write unacknowledgeable.
        this.failure = error as Error;
        for (const w of [...waiters, ...this.pendingWaiters]) w.reject(this.failure);
        this.pendingWaiters = [];
        return;
      }
    }
  }

  private async writeAndSync(frames: Buffer[]): Promise<void> {
    if (frames.length === 0) return;
    const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written);
      written += bytesWritten;
    }
    await this.handle.datasync();
    this.stats.fsyncs++;
    this.stats.records += frames.length;
  }

  async close(): Promise<void> {
    await this.sync().catch(() => undefined);
    await this.flushing;
    await this.handle.close();
  }
}

/** Writes a snapshot for `generation` atomically: temp file, fsync, rename, fsync the directory. */
export async function writeSnapshot(dir: string, generation: number, records: Iterable<Doc>): Promise<number> {
  const finalPath = join(dir, snapshotName(generation));
  const tempPath = `${finalPath}.tmp`;
  const handle = await open(tempPath, 'w');
  let total = 0;
  try {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await handle.write(Buffer.concat(chunk));
      chunk = [];
      chunkBytes = 0;
    };
    for (const record of records) {
      const frame = frameRecord(record);
      chunk.push(frame);
      chunkBytes += frame.length;
      total += frame.length;
      // Yield to the event loop now and then so serving clients goes on during compaction.
      if (chunkBytes > 1 << 20) await flush();
    }
    chunk.push(frameRecord({ op: 'end' }));
    await flush();
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, finalPath);
  fsyncDirectory(dir);
  return total;
}

export interface StoredFiles {
  snapshotGeneration: number | undefined;
  journalGenerations: number[];
}

export async function listStoredFiles(dir: string): Promise<StoredFiles> {
  const names = await readdir(dir);
  let snapshotGeneration: number | undefined;
  const journals: number[] = [];
  for (const name of names) {
    const snap = /^snapshot-(\d+)\.bson$/.exec(name);
    if (snap) snapshotGeneration = Math.max(snapshotGeneration ?? 0, Number(snap[1]));
    const jour = /^journal-(\d+)\.log$/.exec(name);
    if (jour) journals.push(Number(jour[1]));
  }
  journals.sort((a, b) => a - b);
  return { snapshotGeneration, journalGenerations: journals };
}

/** Removes files older than `generation` once a snapshot for it is durable. */
export async function removeOlderGenerations(dir: string, generation: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^(?:snapshot|journal)-(\d+)\.(?:bson|log)$/.exec(name) ?? /^snapshot-(\d+)\.bson\.tmp$/.exec(name);
    if (m && Number(m[1]) < generation) await rm(join(dir, name), { force: true });
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
