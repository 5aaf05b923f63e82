import Foundation
import Provisioner

/// Ansible's `unarchive`: a tar (plain, gzip, bzip2, xz, zstd) or zip archive unpacked into an
/// existing folder on the host. The archive comes from the controller (sent on stdin), from the
/// host itself (`remote_src`), or from a URL the host downloads (`remote_src` with `://`). It is
/// unpacked into a temporary folder first and compared with `dest` (type, content, mode, owner);
/// only a difference copies it over, so a second run reports no change, and check mode (which
/// compares too) says exactly what would change without touching `dest`.
struct UnarchiveModule: Module {
    static let name = "unarchive"
    static let summary = "Unpack a tar or zip archive (from the controller, the host or a URL) into a folder"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("src", .path, required: true, doc: "the archive: on the controller, or on the host with remote_src (or a URL)"),
        ArgumentSpec("dest", .path, required: true, doc: "existing folder to unpack into"),
        ArgumentSpec("remote_src", .bool, doc: "src is on the host (or a URL the host downloads); default false"),
        ArgumentSpec("copy", .bool, doc: "deprecated opposite of remote_src"),
        ArgumentSpec("creates", .path, doc: "when this path exists, nothing is unpacked"),
        ArgumentSpec("list_files", .bool, default: false, doc: "return the archive's members as 'files'"),
        ArgumentSpec("exclude", .list, default: [], doc: "members (globs) not to unpack"),
        ArgumentSpec("include", .list, default: [], doc: "only these members"),
        ArgumentSpec("extra_opts", .list, default: [], doc: "more options for tar or unzip (e.g. --strip-components=1)"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "for a URL src: false accepts any TLS certificate"),
    ] + FileAttributeArguments.specs

    let src: String
    let dest: String
    let remote: Bool
    let creates: String?
    let listFiles: Bool
    let exclude: [String]
    let include: [String]
    let extra: [String]
    let mode: String?
    let attributes: FileAttributeArguments
    let validateCerts: Bool

    init(_ arguments: ModuleArguments) throws {
        src = arguments.string("src") ?? ""
        dest = arguments.string("dest") ?? ""
        if let copy = arguments["copy"].flatMap(ModuleArguments.boolean) {
            if arguments["remote_src"] != nil { throw ModuleError("parameters are mutually exclusive: copy|remote_src", argument: "copy") }
            remote = !copy
        } else {
            remote = arguments.bool("remote_src")
        }
        creates = arguments.string("creates")
        listFiles = arguments.bool("list_files")
        exclude = arguments.strings("exclude") ?? []
        include = arguments.strings("include") ?? []
        extra = arguments.strings("extra_opts") ?? []
        attributes = FileAttributeArguments(arguments)
        mode = try GetURLModule.modeText(arguments)
        validateCerts = arguments["validate_certs"].flatMap(ModuleArguments.boolean) ?? true
        if !exclude.isEmpty && !include.isEmpty { throw ModuleError("parameters are mutually exclusive: include|exclude", argument: "include") }
        if src.contains("://") && !remote {
            throw ModuleError("a URL src is downloaded by the host: set remote_src: true", argument: "src")
        }
        if src.isEmpty || dest.isEmpty { throw ModuleError("src and dest must not be empty", argument: src.isEmpty ? "src" : "dest") }
    }

    var isURL: Bool { remote && src.contains("://") }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] { remote ? [] : [(src, .file)] }

    func observations(_ context: ModuleContext) -> [Observation] {
        (creates.map { [Observation.file(path: $0, content: false)] } ?? []) + (isURL ? [HTTPFetch.probe] : [])
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        // As Ansible's action: an existing `creates` skips the task.
        if let creates, observed.file(creates) != nil { return .skipped("skipped, since \(creates) exists") }
        var environment = ["PV_EXCLUDE": exclude.joined(separator: "\n"), "PV_INCLUDE": include.joined(separator: "\n"),
                           "PV_EXTRA": extra.joined(separator: "\n")]
        var tool = ""
        if isURL {
            guard let found = HTTPFetch.tool(observed) else { return .failed(HTTPFetch.missingTools) }
            tool = found.rawValue
            var request = HTTPFetch.Request(url: src)
            request.validateCerts = validateCerts
            environment.merge(request.environment(hasBody: false)) { $1 }
        }
        let stdin = remote ? nil : try context.readControllerFile(src, .file)
        let argv = ["/bin/sh", "-c", UnarchiveModule.script, "sh", remote ? src : "", dest, context.checkMode ? "1" : "0",
                    listFiles ? "1" : "0", mode ?? "", attributes.owner ?? "", attributes.group ?? "", tool]
        let base: ValueDict = ["dest": .string(dest), "src": .string(src)]
        let listFiles = self.listFiles
        let step = HostStep("unpack \(src) into \(dest)", command: Command(argv, environment: environment, stdin: stdin),
                            runsInCheckMode: true) { run in
            UnarchiveModule.interpret(run, base: base, listFiles: listFiles)
        }
        return Plan(result: base, steps: [step])
    }

    static func interpret(_ run: StepRun, base: ValueDict, listFiles: Bool) -> StepOutcome {
        var fields: [String: String] = [:], files: [String] = [], differ: [String] = []
        var section = ""
        for line in run.output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "@files" || line == "@differ" { section = line; continue }
            switch section {
            case "@files": if !line.isEmpty { files.append(line) }
            case "@differ": if !line.isEmpty { differ.append(line) }
            default:
                let pair = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
        }
        var result = base
        if let handler = fields["handler"] { result["handler"] = .string(handler) }
        if listFiles { result["files"] = .list(files.map(Value.string)) }
        if let rc = fields["rc"].flatMap(Int.init) {
            result["extract_results"] = ["rc": .int(rc), "out": .string(fields["out"] ?? ""), "err": .string(fields["err"] ?? ""),
                                         "cmd": .string(fields["cmd"] ?? "")]
        }
        if let failure = fields["failure"] { return .failed(failure, result: result) }
        guard run.output.status == 0, fields["handler"] != nil else {
            return .failed("unarchive failed on the host (exit \(run.output.status)): \(run.output.stderr)", result: result)
        }
        return StepOutcome(changed: !differ.isEmpty, result: result)
    }

    /// Arguments: SRC (empty: the archive is on stdin) DEST CHECK LIST MODE OWNER GROUP TOOL (for a URL);
    /// PV_EXCLUDE, PV_INCLUDE, PV_EXTRA: newline-separated lists. Prints `key<TAB>value` lines, then
    /// `@files` (the members) and `@differ` (what differs from dest, which is updated unless CHECK).
    static let script = HTTPFetch.library + #"""
    src=$1 dest=$2 check=$3 list=$4 mode=$5 owner=$6 group=$7 tool=$8
    fail() { printf 'failure\t%s\n' "$1"; exit 0; }
    flat() { tr '\n\t' '  ' < "$1"; }
    [ -d "$dest" ] || fail "Destination '$dest' is not a directory"
    t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-unarchive.XXXXXX") || fail "cannot create a temporary folder"
    trap 'rm -rf "$t"' EXIT
    if [ -z "$src" ]; then cat > "$t/archive"; a=$t/archive
    elif [ -n "$tool" ]; then
      provision_fetch "$tool" '' "$t/archive" "$t/meta" 2> "$t/err" || fail "Failure downloading $src, $(flat "$t/err")"
      code=$(awk '/^HTTP\//{s=$2} END{print s}' "$t/meta")
      [ "$code" = 200 ] || fail "Failure downloading $src, HTTP status $code"
      a=$t/archive
    else
      [ -e "$src" ] || fail "Source '$src' does not exist"
      [ -r "$src" ] || fail "Source '$src' not readable"
      a=$src
    fi
    [ -s "$a" ] || fail "Invalid archive '$src', the file is 0 bytes"
    set -f; IFS='
    '
    set -- $PV_EXTRA
    if LC_ALL=C tar -tf "$a" > "$t/files" 2> /dev/null; then
      case $(od -An -tx1 -N4 "$a" | tr -d ' \n') in
        1f8b*) handler=TgzArchive ;; 425a68*) handler=TarBzipArchive ;; fd377a58*) handler=TarXzArchive ;;
        28b52ffd*) handler=TarZstdArchive ;; *) handler=TarArchive ;;
      esac
      for e in $PV_EXCLUDE; do set -- "$@" "--exclude=$e"; done
      set -- -x -f "$a" -C "$t/stage" "$@"
      [ -n "$PV_INCLUDE" ] && set -- "$@" -- $PV_INCLUDE
      cmd="tar $*"
      mkdir "$t/stage"; tar "$@" > "$t/out" 2> "$t/err"; rc=$?
    elif command -v unzip > /dev/null 2>&1 && unzip -Z1 "$a" > "$t/files" 2> /dev/null; then
      handler=ZipArchive
      set -- -q -o "$@" "$a"
      [ -n "$PV_INCLUDE" ] && set -- "$@" $PV_INCLUDE
      [ -n "$PV_EXCLUDE" ] && set -- "$@" -x $PV_EXCLUDE
      set -- "$@" -d "$t/stage"
      cmd="unzip $*"
      mkdir "$t/stage"; unzip "$@" > "$t/out" 2> "$t/err"; rc=$?
    else
      fail "Failed to find handler for \"$src\". Make sure the required command to extract the file is installed."
    fi
    unset IFS; set +f
    printf 'handler\t%s\n' "$handler"
    printf 'rc\t%s\nout\t%s\nerr\t%s\ncmd\t%s\n' "$rc" "$(flat "$t/out")" "$(flat "$t/err")" "$cmd"
    [ "$rc" = 0 ] || fail "failed to unpack $src to $dest"
    # The wanted attributes go on what the archive holds (and its top folders), as Ansible sets them.
    if [ -n "$mode$owner$group" ]; then
      find "$t/stage" -mindepth 1 ! -type l -print > "$t/all"
      while IFS= read -r p; do
        [ -z "$mode" ] || chmod -- "$mode" "$p" || fail "cannot set mode $mode on $p"
        if [ -n "$owner$group" ]; then chown -- "$owner${group:+:$group}" "$p" || fail "cannot set owner/group on $p"; fi
      done < "$t/all"
    fi
    (cd "$t/stage" && find . -mindepth 1 -print) > "$t/paths"
    while IFS= read -r r; do
      s=$t/stage/$r d=$dest/$r
      if [ -L "$s" ]; then
        { [ -L "$d" ] && [ "$(readlink -- "$s")" = "$(readlink -- "$d")" ]; } || echo "${r#./}"
        continue
      elif [ -d "$s" ]; then
        { [ -d "$d" ] && [ ! -L "$d" ]; } || { echo "${r#./}"; continue; }
      elif ! { [ -f "$d" ] && [ ! -L "$d" ] && cmp -s -- "$s" "$d"; }; then
        echo "${r#./}"; continue
      fi
      [ "$(stat -c '%a %u %g' -- "$s")" = "$(stat -c '%a %u %g' -- "$d")" ] || echo "${r#./}"
    done < "$t/paths" > "$t/differ"
    if [ "$check" = 0 ] && [ -s "$t/differ" ]; then
      (cd "$t/stage" && tar -cf - .) | tar -xpf - -C "$dest" 2> "$t/err" || fail "failed to unpack $src to $dest: $(flat "$t/err")"
    fi
    # Ansible's quirk, kept: with --strip-components the stripped top folder's name is empty, so dest itself gets the attributes.
    case $PV_EXTRA in *--strip-components*)
      if [ "$check" = 0 ] && [ -n "$mode$owner$group" ]; then
        before=$(stat -c '%a %u %g' -- "$dest")
        [ -z "$mode" ] || chmod -- "$mode" "$dest" || fail "cannot set mode $mode on $dest"
        if [ -n "$owner$group" ]; then chown -- "$owner${group:+:$group}" "$dest" || fail "cannot set owner/group on $dest"; fi
        [ "$before" = "$(stat -c '%a %u %g' -- "$dest")" ] || echo . >> "$t/differ"
      fi ;;
    esac
    echo @files; [ "$list" = 1 ] && cat "$t/files"
    echo @differ; cat "$t/differ"
    exit 0
    """#
}
