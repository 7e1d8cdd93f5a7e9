// The `taskrunner` bash function every task gets (beside `snapshot`): a nested run invocation
// made from bash inside a build is forwarded to the build's top-level runner over loopback TCP,
// which runs the task in its own process and answers with the exit code. No new runner process
// starts. Anything it cannot forward runs the executable, exactly as without the function.

/** The environment variable under which bash imports an exported function `taskrunner`. */
export const TASKRUNNER_FUNCTION_ENV = "BASH_FUNC_taskrunner%%";

/** The environment variable holding the whole definition of `taskrunner`, for the stub to eval. */
export const TASKRUNNER_DEFINITION_ENV = "_taskrunner_function";

/**
 * The environment variable naming the build's channel file (nest/channel.ts), which holds
 * `PORT:SECRET` once the top level listens.
 */
export const CALL_ENV = "_taskrunner_call";

/** Where a build's top-level runner takes nested calls: a loopback port, and the build's secret. */
export interface CallChannel {
  port: number;
  /** Random per build; a call without it is refused. Hex, so it needs no quoting anywhere. */
  secret: string;
}

/**
 * What tasks get as `taskrunner`: a stub that defines the real function (TASKRUNNER_DEFINITION,
 * from its variable) in the calling shell the first time it is called there, then calls it.
 * Every bash a task starts imports its exported functions by parsing them; most never call
 * `taskrunner` (the nested task itself, `bash -c` helpers), so they parse three lines instead
 * of forty (measured: the whole function added about 5% to a bare bash start). `set -x`
 * shows the call only, as with the real function; a missing definition runs the executable.
 */
export const TASKRUNNER_FUNCTION = `() {
    { builtin local -; builtin set +x; } 2>/dev/null
    if [[ -n \${_taskrunner_function-} ]] && eval "$_taskrunner_function"; then taskrunner "$@"; else command taskrunner "$@"; fi
}`;

/**
 * The real `taskrunner`, as a definition the stub evals. It reads PORT:SECRET from the channel
 * file the environment names, connects to 127.0.0.1:PORT with bash's own `/dev/tcp` (no process
 * is started; each call has its own connection, so parallel callers never share a channel) and
 * sends, each section ended by a NUL byte (bash strings never hold one):
 *   SECRET "\n" `declare -p` of the arguments and $BASHPID "\0" `declare -px` "\0" `declare -fx` "\0"
 * that is the arguments and the caller's process (the runner reads its working directory,
 * umask, limits and descriptors in /proc), and the caller's exported variables and functions,
 * prefix assignments (`X=1 taskrunner ...`) included, all in bash's own quoting, which the
 * runner parses (declare-text.ts). The runner answers with NUL-terminated replies: `A`
 * (accepted: it runs the task), then `X<code>`; or `F`: run the executable instead (help and
 * management options, invalid input whose error the executable prints, the fast path turned
 * off).
 *
 * - `local -` with `set +x` inside `2>/dev/null`: under `set -x` the caller's trace shows the
 *   call, as for the executable, and not the function's own commands.
 * - Every command that may fail sits in a condition, so `set -e` never fires inside; every
 *   variable has a value (`set -u`); nothing is unquoted where globbing or IFS could apply.
 * - Every builtin is called through `builtin` (the stub's too): a caller's own function named
 *   `read`, `printf`, `declare` or `local` would otherwise run instead, and send a wrong
 *   request, hang waiting for a reply, or print errors the executable never prints. Not `eval`
 *   and `command`, which run other commands: through `builtin`, bash 5.2 loses track of `set -e`
 *   (`f || echo` ends a `set -e` script when `builtin command false` fails in `f`).
 * - The connection is a redirection of a compound command, not `exec`: a failed connection then
 *   fails the command, never the shell (POSIX mode makes a failed `exec` redirection fatal).
 * - Each part of the request is written with a redirection of its own, not one around a group:
 *   a trap that runs between two parts (the caller traps a signal that came meanwhile) runs
 *   with the caller's own stdout, instead of writing into the request.
 * - No channel file (the top level is not listening yet, or no longer), one that is a symbolic
 *   link or that the caller does not own (the default state directory is under /tmp, where
 *   another user could plant one to receive the caller's environment), or a connection that
 *   cannot be made or that ends before `A`, runs the executable: nothing ran.
 *   One that ends after `A` is an error: the task may have run; running it again would be wrong.
 * - A signal the caller traps may interrupt `read` (status > 128, in some bash versions), and
 *   so does the caller's TMOUT, bash's default timeout for `read`, when a task runs longer; the
 *   wait goes on, for `A` as for the code, because the task may run. A caller that dies closes
 *   the connection: the runner cancels the task.
 *
 * In the TypeScript source `\\` and `\${` are template-literal escapes for `\` and `${`.
 */
export const TASKRUNNER_DEFINITION = `taskrunner () {
    { builtin local -; builtin set +x; } 2>/dev/null
    builtin local __tr_call= __tr_fd= __tr_reply= __tr_accepted= __tr_pid=$BASHPID
    builtin local -a __tr_argv
    __tr_argv=("$@")
    if [[ -n \${_taskrunner_call-} && -O $_taskrunner_call && ! -L $_taskrunner_call ]] && { IFS= builtin read -r __tr_call <"$_taskrunner_call"; } 2>/dev/null &&
        [[ \${__tr_call%%:*} == [0-9]* && \${__tr_call%%:*} != *[!0-9]* ]] &&
        { builtin :; } 2>/dev/null {__tr_fd}<>"/dev/tcp/127.0.0.1/\${__tr_call%%:*}" &&
        builtin printf '%s\\n' "\${__tr_call#*:}" >&"$__tr_fd" && builtin declare -p __tr_argv __tr_pid >&"$__tr_fd" &&
        builtin printf '\\0' >&"$__tr_fd" && builtin declare -px >&"$__tr_fd" && builtin printf '\\0' >&"$__tr_fd" && builtin declare -fx >&"$__tr_fd" &&
        builtin printf '\\0' >&"$__tr_fd"; then
        while IFS= builtin read -r -d '' -u "$__tr_fd" __tr_reply 2>/dev/null || (( $? > 128 )); do
            if [[ $__tr_reply == [AXF]* ]]; then builtin break; fi
        done
        if [[ $__tr_reply == A ]]; then
            __tr_accepted=1
            while IFS= builtin read -r -d '' -u "$__tr_fd" __tr_reply || (( $? > 128 )); do
                if [[ $__tr_reply == X* ]]; then builtin break; fi
            done
        fi
    fi
    if [[ -n $__tr_fd ]]; then builtin exec {__tr_fd}>&-; fi
    if [[ $__tr_reply == X* ]]; then builtin return "\${__tr_reply#X}"; fi
    if [[ -n $__tr_accepted ]]; then
        builtin printf 'taskrunner: the connection to the build'"'"'s runner ended before the task did\\n' >&2
        builtin return 1
    fi
    command taskrunner "$@"
}`;
