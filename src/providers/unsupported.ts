// Which of a request's OpenAI fields a provider type is known to reject (the catalogue's
// `unsupported` data). Pure: the pipeline asks before an attempt, so a candidate that could only
// answer 400 is skipped with a reason instead of ending the whole chain as a caller fault.
import type { ChatRequest } from "../openai/types.ts";
import type { ProviderTypeInfo } from "./provider_types.ts";

type Json = Record<string, unknown>;
const PER_MESSAGE = "messages[].";

/**
 * Whether a field's value asks the upstream for something. Absent, null, false, empty arrays and
 * empty objects ask for nothing (`logprobs: false`, `tools: []`, `logit_bias: {}`), and `n: 1` is
 * the default every vendor accepts: only `n` above 1 asks for several choices.
 */
function asksFor(field: string, value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (field === "n") return typeof value === "number" && value > 1;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  if (typeof value === "string") return value !== "";
  return true;
}

/**
 * The catalogue names of the fields in `request` that this provider type rejects (for `model`,
 * when the type rejects more for some models), in catalogue order; empty when it accepts the
 * request (or has no such data). Names are top-level request fields, or "messages[].<field>" for
 * a field set on any message.
 */
export function unsupportedParams(
  request: ChatRequest,
  typeInfo: Pick<ProviderTypeInfo, "unsupported" | "unsupportedByModel"> | undefined,
  model = "",
): string[] {
  const used: string[] = [];
  const lower = model.toLowerCase();
  const names = [
    ...(typeInfo?.unsupported ?? []),
    ...(typeInfo?.unsupportedByModel ?? []).filter((m) => lower.startsWith(m.prefix))
      .flatMap((m) => m.unsupported),
  ];
  for (const name of new Set(names)) {
    let hit: boolean;
    if (name.startsWith(PER_MESSAGE)) {
      const field = name.slice(PER_MESSAGE.length);
      hit = request.messages.some((m) => asksFor(field, (m as unknown as Json)[field]));
    } else {
      hit = asksFor(name, request[name]);
    }
    if (hit) used.push(name);
  }
  return used;
}

/** A skip reason for events and error messages: `groq does not accept n > 1, logit_bias`. */
export function unsupportedReason(providerId: string, params: readonly string[]): string {
  const names = params.map((p) => (p === "n" ? "n > 1" : p));
  return `${providerId} does not accept ${names.join(", ")}`;
}
