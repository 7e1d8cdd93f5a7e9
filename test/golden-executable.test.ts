// The golden cases (test/golden.test.ts) with the fast paths off: nested calls through the
// executable (TASKRUNNER_DISABLE_FAST_NESTING=1) and every `snapshot` decided when bash calls it
// (TASKRUNNER_DISABLE_EARLY_SNAPSHOT=1): the same expected outputs as with them on.
import { goldenCases, NESTING } from "./helpers/golden.ts";

goldenCases(NESTING.executable);
