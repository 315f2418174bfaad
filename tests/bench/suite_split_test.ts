// The scenario suite (bench/faults/suite.ts), config `split`: primary a/gpt-4o (OpenAI format),
// fallback b/claude-3-5-haiku-latest (Anthropic format), so every failover also translates.
import { CONFIGS } from "../../bench/faults/suite_scenarios.ts";
import { suiteSteps } from "./_suite.ts";

Deno.test("scenario suite, split providers: one default gateway through every fault in turn", (t) =>
  suiteSteps(t, CONFIGS.split));
