// Provider types users name in config (`"type": "groq"`): which adapter family speaks to it, its
// documented default base URL, and the API-key variable that makes it appear with zero config.
// Adding an OpenAI-compatible vendor is one entry here.

export interface ProviderTypeInfo {
  /** Adapter family that speaks this provider's wire format (see families.ts). */
  family: string;
  /** Documented default base URL; undefined = `baseUrl` is required in config. */
  baseUrl?: string;
  /** Environment variable holding the API key, for zero-config start-up. */
  envKey?: string;
  /** One line for the README's provider table. */
  notes: string;
  /**
   * OpenAI request fields this vendor rejects with a 4xx, as data for `unsupportedParams`
   * (src/providers/unsupported.ts): top-level names, or "messages[].name" for a per-message field.
   */
  unsupported?: readonly string[];
  /**
   * More fields rejected for some of its models, by model-name prefix (case-insensitive): a type
   * that serves several vendors' models (Vertex's Claude models answer one choice only).
   */
  unsupportedByModel?: readonly { prefix: string; unsupported: readonly string[] }[];
  /** Environment variable holding the base URL for zero-config start-up (types without one). */
  envBaseUrl?: string;
  /**
   * The vendor serves OpenAI's Responses API (POST …/responses), so POST /v1/responses is passed
   * through natively: always for a type without a shared base URL (azure), at the documented
   * base URL only for one with it (openai: any other baseUrl is some OpenAI-compatible server).
   * Config's `responsesApi` overrides it per provider.
   */
  responsesApi?: true;
}

export const PROVIDER_CATALOGUE = {
  openai: {
    family: "openai",
    baseUrl: "https://api.openai.com/v1",
    envKey: "OPENAI_API_KEY",
    notes: "OpenAI Chat Completions; any OpenAI-compatible server via baseUrl",
    responsesApi: true,
  },
  anthropic: {
    family: "anthropic",
    baseUrl: "https://api.anthropic.com/v1",
    envKey: "ANTHROPIC_API_KEY",
    notes: "Anthropic Messages API (native format)",
    // A Messages answer is one message: there is no way to ask for several choices.
    unsupported: ["n"],
  },
  // ai.google.dev/api: POST {baseUrl}/models/{model}:generateContent, key in x-goog-api-key.
  gemini: {
    family: "gemini",
    baseUrl: "https://generativelanguage.googleapis.com/v1beta",
    envKey: "GEMINI_API_KEY",
    notes:
      "Google Gemini API (native format); tools, vision, JSON mode and schemas, thinking-token usage, embeddings",
  },
  // ---- OpenAI-compatible vendors (family "openai"). Each base URL is the one the vendor's own
  // docs hand to the OpenAI SDK as base_url; the adapter appends /chat/completions.
  // console.groq.com/docs/openai: these fields are a 400; `n` must be 1.
  groq: {
    family: "openai",
    baseUrl: "https://api.groq.com/openai/v1",
    envKey: "GROQ_API_KEY",
    notes: "Groq LPU inference; tools, JSON mode, vision on vision models, streaming",
    unsupported: ["n", "logprobs", "top_logprobs", "logit_bias", "messages[].name"],
  },
  // docs.mistral.ai/api (ChatCompletionRequest): the seed is `random_seed`, and unknown fields are
  // a 422 extra_forbidden (mistralai/platform-docs-public#7).
  mistral: {
    family: "openai",
    baseUrl: "https://api.mistral.ai/v1",
    envKey: "MISTRAL_API_KEY",
    notes:
      "Mistral La Plateforme; tools, JSON mode, vision (Pixtral, Mistral Small/Medium), embeddings",
    unsupported: ["seed", "logit_bias", "logprobs", "top_logprobs", "user", "messages[].name"],
  },
  // api-docs.deepseek.com: base_url https://api.deepseek.com (the /v1 alias also works).
  deepseek: {
    family: "openai",
    baseUrl: "https://api.deepseek.com",
    envKey: "DEEPSEEK_API_KEY",
    notes: "DeepSeek chat and reasoner models; tools, JSON mode, text only, streaming usage",
  },
  // docs.x.ai/api: curl https://api.x.ai/v1/chat/completions.
  xai: {
    family: "openai",
    baseUrl: "https://api.x.ai/v1",
    envKey: "XAI_API_KEY",
    notes: "xAI Grok; tools, structured outputs, vision on image-capable models",
  },
  // docs.together.ai/docs/inference/openai-compatibility.
  together: {
    family: "openai",
    baseUrl: "https://api.together.ai/v1",
    envKey: "TOGETHER_API_KEY",
    notes:
      "Together AI open models (org/model); tools and JSON mode on supported models, vision, embeddings",
  },
  // fireworks.ai/docs/tools-sdks/openai-compatibility.
  fireworks: {
    family: "openai",
    baseUrl: "https://api.fireworks.ai/inference/v1",
    envKey: "FIREWORKS_API_KEY",
    notes:
      "Fireworks (accounts/fireworks/models/...); tools, JSON mode, vision models, usage in streams",
  },
  // openrouter.ai/docs/quick-start: HTTP-Referer and X-Title are optional attribution headers.
  openrouter: {
    family: "openai",
    baseUrl: "https://openrouter.ai/api/v1",
    envKey: "OPENROUTER_API_KEY",
    notes:
      "OpenRouter: many vendors behind one key (vendor/model); features as the routed model has them; attribution via headers",
  },
  // Cerebras OpenAI compatibility: these fields are a 400 (summarised in req_llm's Cerebras guide).
  cerebras: {
    family: "openai",
    baseUrl: "https://api.cerebras.ai/v1",
    envKey: "CEREBRAS_API_KEY",
    notes: "Cerebras inference; tools (tool_choice auto/none), JSON/structured output, streaming",
    unsupported: [
      "frequency_penalty",
      "presence_penalty",
      "logit_bias",
      "parallel_tool_calls",
      "service_tier",
    ],
  },
  // docs.perplexity.ai/guides/chat-completions-guide lists the OpenAI fields it takes: model,
  // messages, temperature, max_tokens, top_p, the penalties and stream; no tools (Spring AI docs).
  perplexity: {
    family: "openai",
    baseUrl: "https://api.perplexity.ai",
    envKey: "PERPLEXITY_API_KEY",
    notes:
      "Perplexity Sonar: answers grounded in live web search with citations; JSON schema output, streaming; no tools",
    unsupported: ["n", "logit_bias", "logprobs", "top_logprobs", "tools", "tool_choice"],
  },
  // docs.tokenfactory.nebius.com/api-reference/examples/text-generation (formerly AI Studio).
  nebius: {
    family: "openai",
    baseUrl: "https://api.tokenfactory.nebius.com/v1",
    envKey: "NEBIUS_API_KEY",
    notes:
      "Nebius Token Factory open models; tools, JSON mode and guided JSON, vision models, embeddings",
  },
  // docs.sambanova.ai (OpenAI compatibility, API keys and base URLs).
  sambanova: {
    family: "openai",
    baseUrl: "https://api.sambanova.ai/v1",
    envKey: "SAMBANOVA_API_KEY",
    notes: "SambaNova Cloud open models; function calling and JSON mode, vision models, embeddings",
  },
  // docs.hyperbolic.xyz/docs/rest-api: POST https://api.hyperbolic.xyz/v1/chat/completions.
  hyperbolic: {
    family: "openai",
    baseUrl: "https://api.hyperbolic.xyz/v1",
    envKey: "HYPERBOLIC_API_KEY",
    notes: "Hyperbolic serverless open models; streaming, vision models",
  },
  // deepinfra.com/docs/advanced/openai_api: the OpenAI API lives under /v1/openai, not /v1.
  deepinfra: {
    family: "openai",
    baseUrl: "https://api.deepinfra.com/v1/openai",
    envKey: "DEEPINFRA_API_KEY",
    notes: "DeepInfra open models; tools and JSON mode on supported models, embeddings",
  },
  // docs.ollama.com/api/openai-compatibility: the key is required by clients but ignored.
  ollama: {
    family: "openai",
    baseUrl: "http://localhost:11434/v1",
    notes: "local Ollama, no key; tools, JSON mode, vision models, embeddings (OpenAI subset)",
  },
  // docs.vllm.ai serving/openai_compatible_server: `vllm serve` listens on :8000.
  vllm: {
    family: "openai",
    baseUrl: "http://localhost:8000/v1",
    notes:
      "local vLLM, no key unless started with --api-key; tools and guided JSON per server flags",
  },
  // lmstudio.ai/docs/api/openai-api: the local server's default port is 1234.
  lmstudio: {
    family: "openai",
    baseUrl: "http://localhost:1234/v1",
    notes: "local LM Studio server, no key by default; chat, structured output, embeddings",
  },
  // build.nvidia.com: every hosted NIM is OpenAI-compatible under one base URL.
  nvidia: {
    family: "openai",
    baseUrl: "https://integrate.api.nvidia.com/v1",
    envKey: "NVIDIA_API_KEY",
    notes: "NVIDIA NIM API catalog; a self-hosted NIM works with its own baseUrl",
  },
  // novita.ai/docs/guides/llm-api: "The API Base URL https://api.novita.ai/v3/openai".
  novita: {
    family: "openai",
    baseUrl: "https://api.novita.ai/v3/openai",
    envKey: "NOVITA_API_KEY",
    notes: "Novita AI open models; tools and JSON mode on supported models",
  },
  // platform.kimi.ai/docs/api/overview: global endpoint (api.moonshot.cn serves mainland China).
  moonshot: {
    family: "openai",
    baseUrl: "https://api.moonshot.ai/v1",
    envKey: "MOONSHOT_API_KEY",
    notes: "Moonshot AI Kimi models; tools, JSON mode, vision on vision models",
  },
  // docs.github.com/en/github-models/quickstart: POST https://models.github.ai/inference/chat/completions.
  // No envKey on purpose: GITHUB_TOKEN is set in every Actions job, models scope or not.
  github: {
    family: "openai",
    baseUrl: "https://models.github.ai/inference",
    notes: "GitHub Models (publisher/model); a token with the models scope, set in keys",
  },
  // huggingface.co/changelog/inference-providers-openai-compatible.
  huggingface: {
    family: "openai",
    baseUrl: "https://router.huggingface.co/v1",
    envKey: "HF_TOKEN",
    notes:
      "Hugging Face Inference Providers router (org/model[:provider]); tools on supported models",
  },
  // Azure OpenAI: no shared host; baseUrl is the resource endpoint https://<resource>.openai.azure.com
  // (the openai npm SDK's AzureOpenAI reads AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT).
  azure: {
    family: "azure",
    envKey: "AZURE_OPENAI_API_KEY",
    envBaseUrl: "AZURE_OPENAI_ENDPOINT",
    responsesApi: true,
    notes:
      "Azure OpenAI deployments (model → deployment via `deployments`, `apiVersion`); content-filter 400s are caller faults; embeddings",
  },
  // docs.cohere.com/v2 (Chat, Embed); the cohere-ai SDK reads CO_API_KEY.
  cohere: {
    family: "cohere",
    baseUrl: "https://api.cohere.com/v2",
    envKey: "CO_API_KEY",
    notes: "Cohere v2 Chat (native format); tools, JSON mode, streaming usage, embeddings",
    // V2ChatRequest has no way to ask for several choices or to bias tokens.
    unsupported: ["n", "logit_bias"],
  },
  // AWS Bedrock Runtime Converse API (docs.aws.amazon.com/bedrock/latest/APIReference): regional
  // endpoint https://bedrock-runtime.<region>.amazonaws.com, derived from `region` in config.ts.
  bedrock: {
    family: "bedrock",
    notes:
      "AWS Bedrock Converse/ConverseStream (SigV4 from accessKeyId/secretAccessKey/sessionToken, or a Bedrock API key); tools, images, usage incl. cache reads, Titan embeddings",
    // ConverseResponse carries one output message: no way to ask for several choices.
    unsupported: ["n"],
  },
  // Google Vertex AI (cloud.google.com/vertex-ai/docs/reference/rest): regional endpoint
  // https://<region>-aiplatform.googleapis.com/v1/projects/<project>/locations/<region>, derived
  // from `project` and `region` in config.ts; auth by a service account's OAuth token.
  vertex: {
    family: "vertex",
    notes:
      "Google Vertex AI (project, region, service-account credentials): Gemini via generateContent, Claude via rawPredict, text embeddings",
    // Gemini takes n as candidateCount; Claude's Messages answer is one message.
    unsupportedByModel: [{ prefix: "claude-", unsupported: ["n"] }],
  },
} as const satisfies Record<string, ProviderTypeInfo>;

export type ProviderType = keyof typeof PROVIDER_CATALOGUE;
export const PROVIDER_TYPES = Object.keys(PROVIDER_CATALOGUE) as [ProviderType, ...ProviderType[]];

export function providerTypeInfo(type: string): ProviderTypeInfo | undefined {
  // Own keys only: "constructor" or "__proto__" must not resolve to Object.prototype's members.
  return Object.hasOwn(PROVIDER_CATALOGUE, type)
    ? (PROVIDER_CATALOGUE as Record<string, ProviderTypeInfo>)[type]
    : undefined;
}

/** Whether a provider serves the Responses API natively: config's `responsesApi`, else the type's. */
export function servesResponsesApi(
  p: { type: string; baseUrl: string; responsesApi?: boolean },
): boolean {
  if (p.responsesApi !== undefined) return p.responsesApi;
  const info = providerTypeInfo(p.type);
  if (!info?.responsesApi) return false;
  return info.baseUrl === undefined || p.baseUrl === info.baseUrl;
}
