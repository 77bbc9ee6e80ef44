# fish completion for skiff.
#
# Commands and flags are read from `skiff [COMMAND...] --help` when
# completing, so a new command or flag completes without a change here.
# Words are walked left to right: flags (and the value of a flag that takes
# one) are skipped, a word listed under one of the command groups ("Common
# Commands:", "Management Commands:", "Commands:") descends into that
# command, and the other words are operands.  An operand completes by the
# placeholder in the command's "Usage:" line: CONTAINER, IMAGE and VOLUME
# complete the names skiff lists (with the global flags typed before the
# command, so --root is honoured), a|b|c its words, the rest files.

# Lines of the help blocks whose heading matches the ERE $argv[1]; the help
# text follows, one line per argument.
function __skiff_block
    printf '%s\n' $argv[2..-1] | awk -v head="^($argv[1]):\$" '$0 ~ head { on = 1; next }
        on && /^[^ ]/ { on = 0 }
        on && NF { print }'
end

# "name<TAB>summary" for each command listed in the help text $argv.
function __skiff_commands
    __skiff_block 'Common Commands|Management Commands|Commands|Available Commands' $argv |
        awk '{ name = $1; $1 = ""; sub(/^ +/, ""); print name "\t" $0 }'
end

# Every spelling of every flag ("-f", "--format").
function __skiff_flags
    __skiff_block 'Options|Global Options' $argv | awk '{
        for (i = 1; i <= NF; i++) {
            f = $i; sub(/,$/, "", f)
            if (f !~ /^-/) break
            print f
        }
    }'
end

# The flags followed by a value type in the help ("--root string").
function __skiff_value_flags
    __skiff_block 'Options|Global Options' $argv | awk '{
        n = 0
        for (i = 1; i <= NF; i++) {
            f = $i; sub(/,$/, "", f)
            if (f ~ /^-/) { names[++n] = f; continue }
            if (f ~ /^(string|stringArray|strings|stringSlice|int|int64|uint|uint16|uint32|uint64|float|duration|ip|bytes|map|filters|tmpfs|ulimit|host:ip|Pathname)$/)
                for (j = 1; j <= n; j++) print names[j]
            break
        }
    }'
end

# The placeholder for operand number $argv[1] (0-based) in the Usage line of
# the help text that follows; the last placeholder repeats when it has "...".
function __skiff_placeholder
    printf '%s\n' $argv[2..-1] | awk -v want=$argv[1] '/^Usage:/ {
        n = 0
        for (i = 2; i <= NF; i++) {
            w = $i
            if (w ~ /^[a-z]/ && n == 0 && w !~ /\|/) continue
            if (w == "[OPTIONS]") continue
            rep = w ~ /\.\.\./
            gsub(/[][]|\.\.\./, "", w)
            if (w == "") continue
            ph[n++] = w; last_rep = rep
        }
        if (want < n) print ph[want]
        else if (n > 0 && last_rep) print ph[n - 1]
        exit
    }'
end

# Names skiff knows: $argv[1] the binary, $argv[2] containers, images or
# volumes, then the global flags to pass.
function __skiff_names
    set -l bin $argv[1]
    set -l globals $argv[3..-1]
    switch $argv[2]
        case containers
            command $bin $globals ps -a --format '{{.Names}}' 2>/dev/null
        case images
            command $bin $globals images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
                string match -v -- '*<none>*'
        case volumes
            command $bin $globals volume ls -q 2>/dev/null
    end
end

function __skiff_value
    switch $argv[1]
        case --root --runroot --workdir -w
            __fish_complete_directories $argv[2]
        case --log-level
            printf '%s\n' debug info warn error
        case --format -f
            echo json
        case '*'
            __fish_complete_path $argv[2]
    end
end

function __skiff_operand --argument-names bin index cur last
    set -l globals $argv[5..-1]
    set -l help $__skiff_help
    set -l ph (__skiff_placeholder $index $help)
    switch "$ph"
        case CONTAINER CONTAINER-NAME
            __skiff_names $bin containers $globals
        case IMAGE 'LIST|IMAGE' SOURCE_IMAGE
            __skiff_names $bin images $globals
        case VOLUME
            __skiff_names $bin volumes $globals
        case NAME
            __skiff_names $bin containers $globals
            __skiff_names $bin images $globals
        case COMMAND
            if test "$last" = help
                __skiff_commands (command $bin --help 2>/dev/null)
            else
                __fish_complete_command $cur
            end
        case '*|*'
            if string match -qr '^[a-z|]+$' -- $ph
                string split '|' -- $ph
            else
                __fish_complete_path $cur
            end
        case '*'
            __fish_complete_path $cur
    end
end

function __skiff_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin $tokens[1]
    set -g __skiff_help (command $bin --help 2>/dev/null)
    set -l value_flags (__skiff_value_flags $__skiff_help)
    set -l cmds
    set -l globals
    set -l operands 0
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l word $tokens[$i]
        if string match -q -- '-*' $word
            test (count $cmds) -eq 0; and set -a globals $word
            if not string match -q -- '*=*' $word; and contains -- $word $value_flags
                if test $i -eq $n
                    __skiff_value $word $cur
                    return
                end
                set i (math $i + 1)
                test (count $cmds) -eq 0; and set -a globals $tokens[$i]
            end
        else if test $operands -eq 0; and contains -- $word (__skiff_commands $__skiff_help | string replace -r '\t.*' '')
            set -a cmds $word
            set -g __skiff_help (command $bin $cmds --help 2>/dev/null)
            set value_flags (__skiff_value_flags $__skiff_help)
        else if test (count $cmds) -eq 0
            return
        else
            # past a host command (`skiff unshare CMD`, `skiff run IMAGE
            # CMD`) only files
            set -l ph ""
            test $operands -gt 0; and set ph (__skiff_placeholder $operands $__skiff_help)
            if test "$cmds[-1]" = unshare; or test "$ph" = COMMAND; or test "$ph" = ARG
                __fish_complete_path $cur
                return
            end
            set operands (math $operands + 1)
        end
        set i (math $i + 1)
    end

    set -l listed (__skiff_commands $__skiff_help)
    if string match -q -- '-*' $cur
        __skiff_flags $__skiff_help
    else if test (count $cmds) -eq 0; or begin
            test $operands -eq 0; and test (count $listed) -gt 0
        end
        printf '%s\n' $listed
    else if test "$cmds[-1]" = unshare
        __fish_complete_command $cur
    else
        __skiff_operand $bin $operands $cur $cmds[-1] $globals
    end
end

complete -c skiff -f -a '(__skiff_complete)'
