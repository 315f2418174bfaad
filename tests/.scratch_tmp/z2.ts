import { ConfigSchema } from "../../src/config.ts";
const r = ConfigSchema.safeParse({
  providers: { OpenAI: { type: "openai" } },
  routes: { "a/b": ["x/y"] },
});
console.log(JSON.stringify(r.error?.issues, null, 1));
