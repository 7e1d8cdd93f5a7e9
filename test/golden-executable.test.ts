// The golden cases (test/golden.test.ts) with nested calls through the executable
// (TASKRUNNER_DISABLE_FAST_NESTING=1): the same expected outputs as when the top level serves them.
import { goldenCases, NESTING } from "./helpers/golden.ts";

goldenCases(NESTING.executable);
