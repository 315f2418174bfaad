// Provider types users name in config (`"type": "groq"`): which adapter family speaks to it, its
// documented default base URL, and the API-key variable that makes it appear with zero config.
// Adding an OpenAI-compatible vendor is one entry here.

export interface ProviderTypeInfo {
  /** Adapter family that speaks this provider's wire format (see registry.ts). */
  family: string;
  /** Documented default base URL; undefined = `baseUrl` is required in config. */
  baseUrl?: string;
  /** Environment variable holding the API key, for zero-config start-up. */
  envKey?: string;
  /** One line for the README's provider table. */
  notes: string;
}

export const PROVIDER_CATALOGUE = {
  openai: {
    family: "openai",
    baseUrl: "https://api.openai.com/v1",
    envKey: "OPENAI_API_KEY",
    notes: "OpenAI Chat Completions; any OpenAI-compatible server via baseUrl",
  },
  anthropic: {
    family: "anthropic",
    baseUrl: "https://api.anthropic.com/v1",
    envKey: "ANTHROPIC_API_KEY",
    notes: "Anthropic Messages API (native format)",
  },
} as const satisfies Record<string, ProviderTypeInfo>;

export type ProviderType = keyof typeof PROVIDER_CATALOGUE;
export const PROVIDER_TYPES = Object.keys(PROVIDER_CATALOGUE) as [ProviderType, ...ProviderType[]];

export function providerTypeInfo(type: string): ProviderTypeInfo | undefined {
  return (PROVIDER_CATALOGUE as Record<string, ProviderTypeInfo>)[type];
}
