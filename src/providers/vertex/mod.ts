// The public surface of the Vertex AI folder: the adapter, its endpoints and the service-account
// token source the gateway gives each vertex provider.
export { VERTEX_ANTHROPIC_VERSION, vertexAdapter } from "./adapter.ts";
export { isClaudeModel, publisherModelUrl, vertexBaseUrl, vertexHost } from "./urls.ts";
export {
  GOOGLE_TOKEN_URI,
  parseServiceAccount,
  type ServiceAccount,
  ServiceAccountError,
} from "./service_account.ts";
export { CLOUD_PLATFORM_SCOPE, signServiceAccountJwt } from "./jwt.ts";
export { createTokenSource, type TokenSource, type TokenSourceOptions } from "./token.ts";
