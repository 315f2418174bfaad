// docs/bench.svg: added latency (target − direct) per target and rate, one panel per scenario.
// Each target has two bars: p50 (solid) and p99 (pale). The y axis is logarithmic, since Portkey's
// and the Deno servers' figures differ by orders of magnitude; values at or below 0.01 ms are
// drawn at 0.01 ms.
import { added, median, type RunData } from "./stats.ts";

const COLORS: Record<string, string> = {
  forwarder: "#6b7280",
  gateway: "#2563eb",
  "gateway+nats": "#059669",
  "gateway+semi2": "#7c3aed",
  portkey: "#dc2626",
};
const FALLBACK = ["#d97706", "#0891b2", "#be185d"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function chart(d: RunData, title: string): string {
  const targets = d.targets.filter((t) => t !== "direct");
  const color = (t: string, i: number) => COLORS[t] ?? FALLBACK[i % FALLBACK.length];
  const rates = d.params.rates;
  const bar = 7;
  const groupW = targets.length * 2 * bar + 18;
  const panelW = Math.max(260, rates.length * groupW + 20);
  const panelH = 240;
  const left = 56;
  const top = 78;
  const gap = 40;
  const width = left + d.scenarios.length * (panelW + gap);
  const height = top + panelH + 40 + 24 * Math.ceil(targets.length / 4) + 20;

  const all = d.scenarios.flatMap((s) =>
    rates.flatMap((r) =>
      targets.flatMap((t) => [
        median(added(d, s.name, r, t, "p50")),
        median(added(d, s.name, r, t, "p99")),
      ])
    )
  ).filter((x) => Number.isFinite(x));
  const lo = -2; // 0.01 ms
  const hi = Math.max(0, Math.ceil(Math.log10(Math.max(0.1, ...all))));
  const y = (v: number) => {
    const lv = Math.min(hi, Math.max(lo, Math.log10(Math.max(v, 10 ** lo))));
    return top + panelH - ((lv - lo) / (hi - lo)) * panelH;
  };

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="600">${esc(title)}</text>`,
    `<text x="${left}" y="40" fill="#374151">added latency over direct, ms (log scale); ` +
    `solid = p50, pale = p99; median of repetitions; a 2 px stub is 0.01 ms or less</text>`,
  ];
  d.scenarios.forEach((s, si) => {
    const x0 = left + si * (panelW + gap);
    out.push(
      `<text x="${x0 + panelW / 2}" y="${top - 12}" text-anchor="middle" font-weight="600">${
        esc(s.name)
      }</text>`,
    );
    for (let e = lo; e <= hi; e++) {
      const gy = y(10 ** e);
      out.push(
        `<line x1="${x0}" x2="${x0 + panelW}" y1="${gy}" y2="${gy}" stroke="#e5e7eb"/>`,
        `<text x="${x0 - 4}" y="${gy + 4}" text-anchor="end" fill="#6b7280">${10 ** e}</text>`,
      );
    }
    rates.forEach((rate, ri) => {
      const gx = x0 + 10 + ri * groupW;
      targets.forEach((t, ti) => {
        const c = color(t, ti);
        const p50 = median(added(d, s.name, rate, t, "p50"));
        const p99 = median(added(d, s.name, rate, t, "p99"));
        const bx = gx + ti * 2 * bar;
        for (const [v, op, dx] of [[p50, 1, 0], [p99, 0.35, bar]] as const) {
          if (!Number.isFinite(v)) continue;
          // At or below the floor (including "faster than direct", i.e. noise): a 2 px stub.
          const by = Math.min(y(v), top + panelH - 2);
          out.push(
            `<rect x="${bx + dx}" y="${by}" width="${bar - 1}" height="${
              top + panelH - by
            }" fill="${c}" fill-opacity="${op}"><title>${esc(t)} ${rate} RPS ${
              dx ? "p99" : "p50"
            }: ${v.toFixed(2)} ms</title></rect>`,
          );
        }
      });
      out.push(
        `<text x="${gx + (targets.length * bar)}" y="${
          top + panelH + 14
        }" text-anchor="middle">${rate} RPS</text>`,
      );
    });
    out.push(
      `<line x1="${x0}" x2="${x0 + panelW}" y1="${top + panelH}" y2="${
        top + panelH
      }" stroke="#9ca3af"/>`,
    );
  });
  targets.forEach((t, i) => {
    const lx = left + (i % 4) * 150;
    const ly = top + panelH + 36 + Math.floor(i / 4) * 24;
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color(t, i)}"/>`,
      `<text x="${lx + 14}" y="${ly}">${esc(t)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
