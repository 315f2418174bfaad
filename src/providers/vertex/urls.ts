// Vertex AI endpoints (cloud.google.com/vertex-ai/docs/reference/rest): everything a project serves
// in a location lives under {host}/v1/projects/{project}/locations/{location}; the host is
// regional ({region}-aiplatform.googleapis.com) except for the `global` location
// (aiplatform.googleapis.com). Publisher models sit under /publishers/{publisher}/models/{model}.

/** The host of a location's endpoint, e.g. "https://us-central1-aiplatform.googleapis.com". */
export function vertexHost(region: string): string {
  return region === "global"
    ? "https://aiplatform.googleapis.com"
    : `https://${region}-aiplatform.googleapis.com`;
}

/**
 * The provider's base URL: `{host}/v1/projects/{project}/locations/{region}`. `host` (config's
 * `baseUrl`, e.g. a proxy or a local mock) replaces the documented host; a trailing slash is ignored.
 */
export function vertexBaseUrl(project: string, region: string, host?: string): string {
  const origin = (host ?? vertexHost(region)).replace(/\/+$/, "");
  return `${origin}/v1/projects/${encodeURIComponent(project)}/locations/${
    encodeURIComponent(region)
  }`;
}

/** Claude models are Anthropic's partner models; everything else is one of Google's. */
export function isClaudeModel(model: string): boolean {
  return /^claude-/i.test(model);
}

/**
 * `{base}/publishers/{publisher}/models/{model}:{method}` (method may carry a query). The model is
 * one path segment; the `@` of versioned Claude names (claude-sonnet-4-5@20250929) stays as is.
 */
export function publisherModelUrl(
  baseUrl: string,
  publisher: "google" | "anthropic",
  model: string,
  method: string,
): string {
  return `${baseUrl}/publishers/${publisher}/models/${
    encodeURIComponent(model).replace(/%40/g, "@")
  }:${method}`;
}
