// The scenario suite (bench/faults/suite.ts), config `same`: primary a/gpt-4o and fallback
// a/gpt-4o-mini on one provider, so a fault of one model must not cost the other its service.
import { CONFIGS } from "../../bench/faults/suite_scenarios.ts";
import { suiteSteps } from "./_suite.ts";

Deno.test("scenario suite, same provider: one default gateway through every fault in turn", (t) =>
  suiteSteps(t, CONFIGS.same));
