// Azure OpenAI chat completions:
// `POST /{target}/openai/deployments/{deployment}/chat/completions?api-version=…` with an
// `api-key` header. Wire facts from Microsoft's REST reference,
// https://learn.microsoft.com/azure/ai-services/openai/reference (route, `api-version`,
// `api-key`, OpenAI-shaped bodies plus content-filter annotations), the content-filter guide,
// https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter (the
// `prompt_filter_results` of a response, and of the first, choice-less chunk of a stream), and
// https://learn.microsoft.com/azure/ai-services/openai/how-to/quota (429 with Retry-After when a
// deployment's rate limits or tokens-per-minute quota are used up).
//
// Platform errors are `{"error": {"code", "message"}}`: a missing `api-version` is a 404
// "Resource not found" with code "404", a missing key a 401 with code "401", an unknown
// deployment a 404 with code "DeploymentNotFound". Errors from the model itself keep OpenAI's
// `type`/`param`. As the brief for this mock asks, `model` in answers is the deployment name
// (the real service reports the underlying model's name there).
import type { Json, MockCall, MockErrorSpec, MockFormat } from "./format.ts";
import {
  chatObjects,
  chatReply,
  messagesText,
  OPENAI_REFUSALS,
  openaiMalformed,
} from "./openai.ts";

const CODES: Record<number, string> = {
  404: "DeploymentNotFound",
  500: "InternalServerError",
  503: "ServiceUnavailable",
};

/** `{"error": {"code", "message", "type"?, "param"?}}` as Azure OpenAI sends it. */
export function azureError(status: number, spec: MockErrorSpec = {}): Response {
  const code = spec.code !== undefined ? spec.code : CODES[status] ?? String(status);
  const message = spec.message ??
    (code === "DeploymentNotFound"
      ? "The API deployment for this resource does not exist (mock)."
      : `Mock upstream error ${status}.`);
  const error: Json = { code, message };
  if (spec.type !== undefined) error.type = spec.type;
  if (spec.param !== undefined) error.param = spec.param;
  return Response.json({ error }, { status });
}

// Every content-filter category Azure reports, none of them triggered.
const SAFE = Object.fromEntries(
  ["hate", "self_harm", "sexual", "violence"].map((
    k,
  ) => [k, { filtered: false, severity: "safe" }]),
);
const promptFilterResults = [{ prompt_index: 0, content_filter_results: SAFE }];

/** A prompt the content filter caught: 400 code "content_filter", the categories in innererror. */
function contentFiltered(): Response {
  return Response.json({
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content " +
        "management policy. Please modify your prompt and retry.",
      type: null,
      param: "prompt",
      code: "content_filter",
      status: 400,
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: { ...SAFE, violence: { filtered: true, severity: "high" } },
      },
    },
  }, { status: 400 });
}

const version = (c: MockCall) => c.url.searchParams.get("api-version");
const rateLimitMessage = (c: MockCall, limit: string, sec: number) =>
  `Requests to the ChatCompletions_Create operation under Azure OpenAI API version ` +
  `${version(c)} have exceeded the ${limit} of deployment ${c.model} (mock ${c.target}). ` +
  `Please retry after ${sec} seconds.`;

export const azure: MockFormat = {
  name: "azure",
  baseUrl: "",
  routes: ["POST /openai/deployments/{deployment}/chat/completions?api-version={version}"],
  match(method, path) {
    const [openai, deployments, deployment, ...rest] = path;
    if (method !== "POST" || openai !== "openai" || deployments !== "deployments") return;
    return deployment && rest.join("/") === "chat/completions"
      ? { operation: "chat", model: deployment }
      : undefined;
  },
  model: (_body, route) => route.model!,
  streaming: (body) => body.stream === true,
  admit(c) {
    if (!version(c)) return azureError(404, { code: "404", message: "Resource not found" });
    if (!c.req.headers.get("api-key")) {
      return azureError(401, {
        code: "401",
        message: "Access denied: send a valid key for this resource in the api-key header (mock).",
      });
    }
    return undefined;
  },
  validate({ body }) {
    if (Array.isArray(body.messages)) return undefined;
    return azureError(400, {
      code: null,
      type: "invalid_request_error",
      param: "messages",
      message: "'messages' is a required property",
    });
  },
  prompt: (c) => messagesText(c.body),
  error: azureError,
  rateLimit: (c, retry) =>
    azureError(429, { code: "429", message: rateLimitMessage(c, "call rate limit", retry.sec) }),
  // Azure's quota is a deployment's tokens-per-minute allocation; using it up is a 429 too.
  quota: (c) => {
    const res = azureError(429, {
      code: "429",
      message: rateLimitMessage(c, "token rate limit (tokens-per-minute quota)", 60),
    });
    res.headers.set("retry-after", "60");
    return res;
  },
  // Model errors keep OpenAI's body; the content filter is Azure's own.
  reject: (_c, why) =>
    why === "content_filter" ? contentFiltered() : azureError(400, OPENAI_REFUSALS[why]),
  answer(c, content) {
    const { completion, chunks, firstPiece } = chatObjects(c, content);
    const choices = (o: Json) => o.choices as Json[];
    completion.prompt_filter_results = promptFilterResults;
    for (const choice of choices(completion)) choice.content_filter_results = SAFE;
    // Content chunks carry the (empty until scanned) filter results of their choice.
    for (const chunk of chunks) {
      for (const choice of choices(chunk)) {
        choice.content_filter_results = choice.finish_reason ? SAFE : {};
      }
    }
    const filterChunk = {
      choices: [],
      created: 0,
      id: "",
      model: "",
      object: "",
      prompt_filter_results: promptFilterResults,
    };
    const id = `req_${c.target}_${c.seq}`;
    const objects = { completion, chunks: [filterChunk, ...chunks], firstPiece: firstPiece + 1 };
    return chatReply(c, objects, content.complete, {
      "x-request-id": id,
      "apim-request-id": id,
    });
  },
  malformed: openaiMalformed,
};
