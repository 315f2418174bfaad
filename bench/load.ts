// Open-loop load: requests leave at fixed times (rate R for D seconds) whatever the answers do,
// and each latency is measured from its scheduled send time, so a slow server cannot hide its
// queueing (no coordinated omission).
export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function openLoop(
  url: string,
  body: string,
  rate: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push((async () => {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        });
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - at);
        else errors++;
      } catch {
        errors++;
      }
    })());
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    ok: latencies.length,
    errors,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
  };
}
