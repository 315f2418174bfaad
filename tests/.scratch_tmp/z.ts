import { buildConfig, ConfigError } from "../../src/config.ts";
const tries: unknown[] = [
  { providers: { OpenAI: { type: "openai" } } },
  { providers: { x: { type: "openai", bogus: 1 } } },
  { bogus: 1 },
  { providers: { x: { type: "gpt" } } },
  { providers: { x: { type: "openai", keys: [{ value: "sk-123" }] } } },
  { providers: { x: { type: "openai", breaker: { failureRateThreshold: 2 } } } },
  { routes: { fast: ["x/y"] } },
  { routes: { fast: ["constructor/y"] } },
  { port: "80" },
  { providers: { x: { type: "openai", baseUrl: "not a url" } } },
  [],
  null,
];
for (const t of tries) {
  try {
    const c = buildConfig(t, () => undefined, "t.json");
    console.log("OK", JSON.stringify(c).slice(0, 200));
  } catch (e) {
    console.log((e as Error).name, (e as Error).message);
  }
}
