// Adapter families by config `type`. Adding a provider family means one line here.
import type { ProviderAdapter } from "./adapter.ts";
import { anthropicAdapter } from "./anthropic/adapter.ts";
import { azureAdapter } from "./azure/adapter.ts";
import { bedrockAdapter } from "./bedrock/mod.ts";
import { cohereAdapter } from "./cohere/adapter.ts";
import { geminiAdapter } from "./gemini/adapter.ts";
import { openaiAdapter } from "./openai/adapter.ts";
import { vertexAdapter } from "./vertex/mod.ts";

const ADAPTERS: ReadonlyMap<string, ProviderAdapter> = new Map(
  [
    openaiAdapter,
    anthropicAdapter,
    geminiAdapter,
    azureAdapter,
    cohereAdapter,
    bedrockAdapter,
    vertexAdapter,
  ].map((a) => [a.family, a]),
);

/** Every family `adapterFor` knows, e.g. for the config schema's enum. */
export const ADAPTER_FAMILIES: readonly string[] = Object.freeze([...ADAPTERS.keys()]);

/** The adapter for a config `type`, or undefined when there is none. */
export function adapterFor(family: string): ProviderAdapter | undefined {
  return ADAPTERS.get(family);
}
