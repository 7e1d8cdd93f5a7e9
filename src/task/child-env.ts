// The environment a task starts with (SPEC §2, §5): the invocation's own, plus what lets the
// task talk to its runner (the `snapshot` function and the pipes) and to its build (the build
// id, the top-level descriptors and, where the top level serves them, nested calls).
import { SNAPSHOT_FUNCTION, SNAPSHOT_FUNCTION_ENV } from "../protocol/snapshot-function.ts";
import { CALL_ENV, TASKRUNNER_DEFINITION, TASKRUNNER_DEFINITION_ENV, TASKRUNNER_FUNCTION, TASKRUNNER_FUNCTION_ENV } from "../nest/function.ts";

/** What of the invocation the task's environment is made from. */
export interface ChildEnvSource {
  env: Record<string, string | undefined>;
  stateDir: string;
  buildId: string;
  topLevel: boolean;
  /** Top level: the channel file of its build's nested calls (nest/channel.ts), or null (fast path off). */
  nesting: string | null;
}

/** The task's environment, given the descriptor numbers it gets (spawn.ts CHILD_FD). */
export function childEnv(inv: ChildEnvSource, fds: { toplevelStdout: number; toplevelStderr: number; request: number; response: number }): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...inv.env,
    TASKRUNNER_STATE_DIRECTORY: inv.stateDir,
    [SNAPSHOT_FUNCTION_ENV]: SNAPSHOT_FUNCTION,
    _taskrunner_build_id: inv.buildId,
    _taskrunner_toplevel_stdout: String(fds.toplevelStdout),
    _taskrunner_toplevel_stderr: String(fds.toplevelStderr),
    _taskrunner_request_pipe: String(fds.request),
    _taskrunner_response_pipe: String(fds.response),
  };
  // A top level serves its own build's nested calls, never another build's (its environment may
  // come from a task of another build); nested tasks pass on what their caller had.
  if (inv.topLevel) {
    delete env[TASKRUNNER_FUNCTION_ENV];
    delete env[TASKRUNNER_DEFINITION_ENV];
    delete env[CALL_ENV];
    if (inv.nesting !== null) {
      env[TASKRUNNER_FUNCTION_ENV] = TASKRUNNER_FUNCTION;
      env[TASKRUNNER_DEFINITION_ENV] = TASKRUNNER_DEFINITION;
      env[CALL_ENV] = inv.nesting;
    }
  }
  return env;
}
