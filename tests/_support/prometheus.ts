// A reader for the Prometheus text exposition format, so tests assert on what a scraper sees:
// `# TYPE` lines and samples `name{label="value",…} number`, label values unescaped.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  /** Samples of `name` whose labels include every pair in `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
  /** The value of the one sample of `name` with exactly these labels (throws when absent). */
  value(name: string, labels?: Record<string, string>): number;
}

const UNESCAPE: Record<string, string> = { "\\": "\\", '"': '"', n: "\n" };

function parseLabels(text: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at;
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    const key = text.slice(i, eq).trim();
    if (text[eq + 1] !== '"') throw new Error(`bad label value at ${eq + 1}: ${text}`);
    let value = "";
    i = eq + 2;
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error(`unterminated label value: ${text}`);
      if (text[i] === "\\") {
        value += UNESCAPE[text[i + 1]] ?? text[i + 1];
        i += 2;
      } else {
        value += text[i++];
      }
    }
    labels[key] = value;
    i++;
    if (text[i] === ",") i++;
  }
  return { labels, end: i + 1 };
}

export function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (m) types.set(m[1], m[2]);
      continue;
    }
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace !== -1 && brace < space) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace + 1);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    } else {
      name = line.slice(0, space);
      rest = line.slice(space);
    }
    const raw = rest.trim().split(/\s+/)[0];
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`bad sample value: ${line}`);
    samples.push({ name, labels, value });
  }
  const includes = (have: Record<string, string>, want: Record<string, string>) =>
    Object.entries(want).every(([k, v]) => have[k] === v);
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && includes(s.labels, labels));
  return {
    types,
    samples,
    find,
    value(name, labels = {}) {
      const exact = find(name, labels).filter((s) =>
        Object.keys(s.labels).length === Object.keys(labels).length
      );
      if (exact.length !== 1) {
        throw new Error(
          `expected one sample ${name}${JSON.stringify(labels)}, found ${exact.length}: ${
            JSON.stringify(find(name))
          }`,
        );
      }
      return exact[0].value;
    },
  };
}
