// Load generators for bench/e2e.ts, both bounded in time and in requests in flight.
//
// openLoop: requests leave at fixed times (rate R for D seconds) whatever the answers do, and each
// latency is measured from its *scheduled* send time, so a slow server cannot hide its queueing
// behind a generator that waits for it (no coordinated omission). The generator's own lateness
// (sendLag) and the rate it really achieved are reported, so a generator that cannot keep up is
// visible instead of silently lowering the load.
//
// closedLoop: N workers, each sending its next request as soon as the previous answer is read,
// for T seconds: the maximum throughput the target sustains at that concurrency.
//
// Streams (stream: true) are read chunk by chunk: time to first byte of the body, then the whole
// stream, which must end with `data: [DONE]` or it counts as an error.

export interface LoadRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  stream?: boolean;
}

export interface LoadOptions {
  /** A request still unanswered after this counts as an error ("timeout"). Default 5000 ms. */
  timeoutMs?: number;
  /** Past this many requests in flight, a due request is not sent and counts as "overload". */
  maxInFlight?: number;
}

export interface OpenLoopResult {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Requests sent per second between the first scheduled send and the last actual send. */
  achievedRps: number;
  /** How late the generator sent (actual − scheduled), ms. */
  sendLagP50: number;
  sendLagP99: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Streams only: scheduled send → first body byte, ms. */
  ttfb?: { p50: number; p90: number; p99: number };
}

export interface ClosedLoopResult {
  concurrency: number;
  seconds: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const DONE = new TextEncoder().encode("[DONE]");

/** True when the last bytes of a stream hold `[DONE]` (ignoring trailing whitespace). */
function endsWithDone(tail: Uint8Array): boolean {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 10 || tail[end - 1] === 13 || tail[end - 1] === 32)) end--;
  if (end < DONE.length) return false;
  for (let i = 0; i < DONE.length; i++) {
    if (tail[end - DONE.length + i] !== DONE[i]) return false;
  }
  return true;
}

interface Sample {
  ok: boolean;
  kind?: string;
  /** performance.now() of the first body byte (streams) and of the end. */
  firstByte?: number;
  end: number;
}

/** One request, read to the end. Never throws: failures come back as a kind. */
async function once(req: LoadRequest, timeoutMs: number): Promise<Sample> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(req.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...req.headers },
      body: req.body,
      signal,
    });
    if (!req.stream) {
      const buf = await res.arrayBuffer();
      const end = performance.now();
      if (!res.ok) return { ok: false, kind: `status ${res.status}`, end };
      if (buf.byteLength === 0) return { ok: false, kind: "empty body", end };
      return { ok: true, end };
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return { ok: false, kind: `status ${res.status}`, end: performance.now() };
    }
    const reader = res.body.getReader();
    let firstByte: number | undefined;
    let tail = new Uint8Array(0);
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      firstByte ??= performance.now();
      // Keep the last 32 bytes to check the terminator without buffering the whole stream.
      if (value.length >= 32) tail = value.slice(value.length - 32);
      else {
        const joined = new Uint8Array(tail.length + value.length);
        joined.set(tail);
        joined.set(value, tail.length);
        tail = joined.slice(Math.max(0, joined.length - 32));
      }
    }
    const end = performance.now();
    if (!endsWithDone(tail)) return { ok: false, kind: "stream without [DONE]", firstByte, end };
    return { ok: true, firstByte, end };
  } catch (e) {
    const kind = signal.aborted ? "timeout" : `network: ${(e as Error).name}`;
    return { ok: false, kind, end: performance.now() };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openLoop(
  req: LoadRequest,
  rate: number,
  seconds: number,
  opts: LoadOptions = {},
): Promise<OpenLoopResult> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxInFlight = opts.maxInFlight ?? 4_096;
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const lags: number[] = [];
  const errorKinds: Record<string, number> = {};
  const fail = (kind: string) => errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  let inFlight = 0;
  let lastSend = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / rate;
    const wait = at - performance.now();
    // Timers are ~1 ms coarse: sleep only when the next send is at least 1 ms away and send
    // everything already due back to back, so the schedule holds on average.
    if (wait >= 1) await sleep(wait);
    const now = performance.now();
    lags.push(Math.max(0, now - at));
    lastSend = now;
    if (inFlight >= maxInFlight) {
      fail("overload (generator in-flight cap)");
      continue;
    }
    inFlight++;
    pending.push(
      once(req, timeoutMs).then((s) => {
        inFlight--;
        if (!s.ok) return void fail(s.kind ?? "error");
        latencies.push(s.end - at);
        if (s.firstByte !== undefined) ttfbs.push(s.firstByte - at);
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  ttfbs.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const errors = Object.values(errorKinds).reduce((s, n) => s + n, 0);
  const spanSec = Math.max(1e-3, (lastSend - start) / 1000);
  return {
    rate,
    seconds,
    sent: total,
    ok: latencies.length,
    errors,
    errorKinds,
    achievedRps: total > 1 ? (total - 1) / spanSec : total,
    sendLagP50: percentile(lags, 50),
    sendLagP99: percentile(lags, 99),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : NaN,
    ttfb: req.stream
      ? { p50: percentile(ttfbs, 50), p90: percentile(ttfbs, 90), p99: percentile(ttfbs, 99) }
      : undefined,
  };
}

export async function closedLoop(
  req: LoadRequest,
  concurrency: number,
  seconds: number,
  opts: LoadOptions = {},
): Promise<ClosedLoopResult> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let okInTime = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const s = await once(req, timeoutMs);
      if (!s.ok) {
        const kind = s.kind ?? "error";
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        continue;
      }
      latencies.push(s.end - t);
      if (s.end <= deadline) okInTime++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    seconds,
    ok: latencies.length,
    errors: Object.values(errorKinds).reduce((s, n) => s + n, 0),
    errorKinds,
    rps: okInTime / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
