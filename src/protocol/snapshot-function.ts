// The `snapshot` shell function every bash in a task gets (SPEC §5). It must work with bash
// alone: tasks run with arbitrary PATHs, and jq or even an external printf may be missing.

/** The environment variable name under which bash imports an exported function `snapshot`. */
export const SNAPSHOT_FUNCTION_ENV = "BASH_FUNC_snapshot%%";

/**
 * The value of {@link SNAPSHOT_FUNCTION_ENV}: the body of `snapshot`, which writes
 * `["snapshot",ARGS...]` as one line to fd `$_taskrunner_request_pipe`, reads one reply line from
 * fd `$_taskrunner_response_pipe` and evals it. Its bytes are exactly those of `encodeRequest`.
 *
 * How it encodes, and why:
 * - `local LC_ALL=C` makes lengths, substrings and patterns work on bytes; bash restores the
 *   caller's locale when the function returns. Two reasons: in a multibyte locale such as Big5
 *   or GBK the byte `\` can be the second half of a character, which character-wise matching
 *   would leave unescaped; and in a UTF-8 locale the substitutions below took over 5 s on a
 *   200 KB argument with control characters, against 0.2 s in C.
 * - `\` and `"` are escaped first, so the backslashes added for control characters are not
 *   escaped again. Patterns and replacements are quoted variables, so they are literal whatever
 *   the shell options (bash 5.2's `patsub_replacement` gives `&` and `\\` meaning in an unquoted
 *   replacement) and the bash version (backslashes in replacements changed across 4.x/5.x).
 * - Control characters are rare, so the common case is two substitutions and one test per
 *   argument. When there are some, each pass finds the first one and replaces every occurrence
 *   of that byte: at most 31 passes of linear work whatever the length (a per-byte loop took
 *   30 s on a 200 KB argument). Bytes 0x01 and 0x7f are bash's internal quoting
 *   markers (CTLESC, CTLNUL); the unit tests send every byte 1..255, alone and mixed, through
 *   this code (and through the copy bash re-exports to a nested bash) to catch a bash that
 *   mishandles them.
 * - The line is built whole and written by one `printf`, so it leaves in one write(2) (bash's
 *   stdio splits a very long line in two, 196608 + 3415 bytes for 200 KB; a pipe write that
 *   large is not atomic anyway, PIPE_BUF being 4 KiB).
 * - `for a; do` rather than `for a in "$@"`: the latter trips `set -u` on bash < 4.4 when there
 *   are no arguments. Every local has a value (`set -u`), every test sits in an `if`/`while`
 *   condition (`set -e`), nothing is unquoted where globbing (`failglob`) or IFS could apply.
 * - A failed write or read (the runner is gone) is `exit 1` with a message, as if the reply
 *   were an error.
 *
 * In the TypeScript source `\\` and `\${` are template-literal escapes for `\` and `${`.
 */
export const SNAPSHOT_FUNCTION = `() {
    local LC_ALL=C
    local __tr_out=\${_taskrunner_request_pipe-} __tr_in=\${_taskrunner_response_pipe-}
    local __tr_bs='\\' __tr_q='"' __tr_line='["snapshot"' __tr_a= __tr_p= __tr_c= __tr_e= __tr_reply=
    if [[ -z $__tr_out || -z $__tr_in || $__tr_out$__tr_in == *[!0-9]* ]]; then
        printf 'snapshot: _taskrunner_request_pipe and _taskrunner_response_pipe must be descriptor numbers; is this running under taskrunner?\\n' >&2
        exit 1
    fi
    for __tr_a; do
        __tr_a=\${__tr_a//"$__tr_bs"/"$__tr_bs$__tr_bs"}
        __tr_a=\${__tr_a//"$__tr_q"/"$__tr_bs$__tr_q"}
        while [[ $__tr_a == *[$'\\x01'-$'\\x1f']* ]]; do
            __tr_p=\${__tr_a%%[$'\\x01'-$'\\x1f']*}
            __tr_c=\${__tr_a:\${#__tr_p}:1}
            case $__tr_c in
            $'\\b') __tr_e='\\b' ;;
            $'\\t') __tr_e='\\t' ;;
            $'\\n') __tr_e='\\n' ;;
            $'\\f') __tr_e='\\f' ;;
            $'\\r') __tr_e='\\r' ;;
            *) printf -v __tr_e '\\\\u%04x' "'$__tr_c" ;;
            esac
            __tr_a=\${__tr_a//"$__tr_c"/"$__tr_e"}
        done
        __tr_line+=",\\"$__tr_a\\""
    done
    printf '%s]\\n' "$__tr_line" >&"$__tr_out" || {
        printf 'snapshot: cannot write to the taskrunner request pipe (descriptor %s)\\n' "$__tr_out" >&2
        exit 1
    }
    IFS= read -r __tr_reply <&"$__tr_in" || {
        printf 'snapshot: no reply from taskrunner (response pipe, descriptor %s, closed)\\n' "$__tr_in" >&2
        exit 1
    }
    eval "$__tr_reply"
}`;
