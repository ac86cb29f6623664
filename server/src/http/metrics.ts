// GET /metrics in the Prometheus text format: process memory and CPU, event-loop delay and open
// WebSockets. Off unless METRICS_TOKEN is set, and then only for requests that send it.
import { timingSafeEqual, createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Router } from 'express';

export interface MetricsSources {
  token: string;
  /** WebSockets open now (graphql-ws connections). */
  openWebSockets(): number;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The event-loop delay is measured from the router's creation; its percentiles cover the time
 * since the previous scrape (each scrape starts a new interval), so a scraper sees each window.
 */
export function metricsRouter({ token, openWebSockets }: MetricsSources): Router {
  const router = Router();
  const expected = digest(token);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  router.get('/metrics', (request, response) => {
    const presented = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    // Compared as digests, so neither the length nor the content leaks through timing.
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      response.status(401).json({ error: { code: 'http/unauthorized', message: 'A valid metrics token is required' } });
      return;
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    // An interval without a sample has no percentiles: report 0 rather than the monitor's placeholders.
    const seconds = (nanoseconds: number): number => (delay.count > 0 && Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
    const lines = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${memory.rss}`,
      '# HELP nodejs_heap_used_bytes V8 heap in use, in bytes.',
      '# TYPE nodejs_heap_used_bytes gauge',
      `nodejs_heap_used_bytes ${memory.heapUsed}`,
      '# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.',
      '# TYPE process_cpu_seconds_total counter',
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
      '# HELP nodejs_eventloop_delay_seconds Event-loop delay since the previous scrape.',
      '# TYPE nodejs_eventloop_delay_seconds summary',
      `nodejs_eventloop_delay_seconds{quantile="0.5"} ${seconds(delay.percentile(50))}`,
      `nodejs_eventloop_delay_seconds{quantile="0.99"} ${seconds(delay.percentile(99))}`,
      `nodejs_eventloop_delay_seconds{quantile="1"} ${seconds(delay.max)}`,
      `nodejs_eventloop_delay_seconds_count ${delay.count}`,
      '# HELP charla_open_websockets WebSocket connections open now.',
      '# TYPE charla_open_websockets gauge',
      `charla_open_websockets ${openWebSockets()}`,
      '',
    ];
    delay.reset();
    response.setHeader('Cache-Control', 'no-store');
    response.type('text/plain; version=0.0.4; charset=utf-8').send(lines.join('\n'));
  });
  return router;
}
