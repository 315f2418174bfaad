// What a client reads off the gateway's wire, shared by the fault matrix and the scenario suite:
// SSE frames, and whether an error body has OpenAI's shape.

export interface Frame {
  event?: string;
  data: string;
}

export function parseSse(text: string): Frame[] {
  return text.split("\n\n").filter((b) => b.trim()).map((block) => {
    const f: Frame = { data: "" };
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) f.event = line.slice(7);
      if (line.startsWith("data: ")) f.data += line.slice(6);
    }
    return f;
  });
}

/** `{"error": {"message", "type", "code", "param"}}` with a message and a type. */
export function isOpenAiError(body: unknown): boolean {
  const e = (body as { error?: Record<string, unknown> })?.error;
  return !!e && typeof e.message === "string" && typeof e.type === "string" && "code" in e &&
    "param" in e;
}
