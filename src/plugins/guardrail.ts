// Request guardrail. `deny` rules are regular expressions over the text of the messages (or the
// embeddings input): a match answers 400 naming the rule — never the matched text — and ends the
// chain before any provider is asked, so a denied request is denied even while every provider is
// down. `maxTokens` caps the completion budget: "reject" refuses a request asking for more,
// "clamp" (the default) lowers `max_tokens` / `max_completion_tokens` to the cap on every
// attempt's copy of the request, and sets `max_tokens` when the client asked for no limit.
import { type Plugin, requestTexts, type Stop } from "./plugin.ts";

export interface DenyRule {
  name: string;
  pattern: RegExp;
}

export interface GuardrailOptions {
  name?: string;
  maxTokens?: number;
  onMaxTokens?: "clamp" | "reject";
  deny?: readonly DenyRule[];
}

export function guardrailPlugin(opts: GuardrailOptions): Plugin {
  // A global or sticky regex keeps state between test() calls; matching must not.
  const deny = (opts.deny ?? []).map((r) => ({
    name: r.name,
    pattern: new RegExp(r.pattern.source, r.pattern.flags.replace(/[gy]/g, "")),
  }));
  const cap = opts.maxTokens;
  const mode = opts.onMaxTokens ?? "clamp";
  return {
    name: opts.name ?? "guardrail",
    begin(ctx): Stop | void {
      for (const text of requestTexts(ctx.request)) {
        const rule = deny.find((r) => r.pattern.test(text));
        if (rule) {
          return {
            stop: {
              reason: `The request was denied by guardrail rule "${rule.name}".`,
              status: 400,
              code: "guardrail_denied",
            },
          };
        }
      }
      if (cap === undefined || mode !== "reject" || ctx.request.kind !== "chat") return;
      const b = ctx.request.body;
      for (const field of ["max_tokens", "max_completion_tokens"] as const) {
        const asked = b[field];
        if (asked !== undefined && asked > cap) {
          return {
            stop: {
              reason: `${field} ${asked} is over this gateway's limit of ${cap}.`,
              status: 400,
              code: "max_tokens_exceeded",
            },
          };
        }
      }
    },
    pre(ctx) {
      if (cap === undefined || mode !== "clamp" || ctx.request.kind !== "chat") return;
      const b = ctx.request.body;
      if (b.max_tokens === undefined && b.max_completion_tokens === undefined) b.max_tokens = cap;
      if (b.max_tokens !== undefined && b.max_tokens > cap) b.max_tokens = cap;
      if (b.max_completion_tokens !== undefined && b.max_completion_tokens > cap) {
        b.max_completion_tokens = cap;
      }
    },
  };
}
