import Provisioner

/// Ansible's `apt_repository`: a one-line `deb`/`deb-src` source in /etc/apt/sources.list or
/// sources.list.d/*.list, added (or a commented-out copy enabled) or removed wherever it is, the
/// index refreshed after a change. Every sources file is read in the play's observation round trip.
struct AptRepositoryModule: Module {
    static let name = "apt_repository"
    static let summary = "A one-line apt source in sources.list.d (then apt-get update)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("repo", .string, required: true, doc: "the source line ('deb [signed-by=...] URI SUITE COMPONENT...')"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or absent"),
        ArgumentSpec("filename", .string, doc: "file in sources.list.d, without .list (default: from the URI)"),
        ArgumentSpec("mode", .raw, doc: "mode of a new file (default 0644)"),
        ArgumentSpec("update_cache", .bool, default: true, aliases: ["update-cache"], doc: "apt-get update after a change"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "accepted as in Ansible (used only for PPA lookups, which provision refuses)"),
        ArgumentSpec("install_python_apt", .bool, default: true, doc: "accepted: provision needs no python3-apt, so there is nothing to install"),
    ]

    static let sourcesList = "/etc/apt/sources.list"
    static let sourcesFolder = "/etc/apt/sources.list.d"

    let source: String
    let present: Bool
    let filename: String?
    let mode: UInt32
    let updateCache: Bool

    init(_ arguments: ModuleArguments) throws {
        let repo = arguments.string("repo") ?? ""
        if repo.hasPrefix("ppa:") {
            throw ModuleError("PPA repositories need Launchpad lookups that provision does not implement: give the deb line "
                + "(and its key with deb822_repository or signed-by)", argument: "repo")
        }
        guard let parsed = AptRepositoryModule.parse(repo), parsed.valid, parsed.enabled else {
            throw ModuleError("Invalid repository string: \(repo)", argument: "repo")
        }
        source = parsed.source
        present = arguments.string("state") != "absent"
        filename = arguments.string("filename")
        mode = try arguments.octalMode("mode", default: 0o644)
        updateCache = arguments["update_cache"].flatMap(ModuleArguments.boolean) ?? true
        if let filename, filename.isEmpty || filename.contains("\n") { throw ModuleError("filename must be a file name", argument: "filename") }
    }

    /// One sources line as Ansible's SourcesList reads it.
    struct Line: Equatable {
        var valid: Bool
        var enabled: Bool
        var source: String
        var comment: String

        var text: String { (enabled ? "" : "# ") + source + (comment.isEmpty ? "" : " # " + comment) + "\n" }
    }

    static func parse(_ raw: String) -> Line? {
        var line = raw.trimmingCharacters(in: .whitespaces)
        var enabled = true, comment = ""
        if line.hasPrefix("#") { enabled = false; line.removeFirst() }
        if let hash = line.firstIndex(of: "#"), hash > line.startIndex {
            comment = line[line.index(after: hash)...].trimmingCharacters(in: .whitespaces)
            line = String(line[..<hash])
        }
        let chunks = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let valid = ["deb", "deb-src"].contains(chunks.first ?? "")
        return Line(valid: valid, enabled: enabled, source: valid ? chunks.joined(separator: " ") : line.trimmingCharacters(in: .whitespaces),
                    comment: comment)
    }

    /// Ansible's `_suggest_filename`: the URI's host and path, words joined with `_`.
    var suggestedFile: String {
        if let filename { return filename.contains("/") ? filename : PathText.join(AptRepositoryModule.sourcesFolder, filename + ".list") }
        var line = source.replacingOccurrences(of: #"\[[^\]]+\]"#, with: "", options: .regularExpression)
        line = line.replacingOccurrences(of: #"\w+://"#, with: "", options: .regularExpression)
        var parts = line.split(separator: " ").map(String.init).filter { $0 != "deb" && $0 != "deb-src" }
        if let first = parts.first, let at = first.firstIndex(of: "@") { parts[0] = String(first[first.index(after: at)...]) }
        let cleaned = (parts.first ?? "").map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : " " }
        let name = String(cleaned).split(separator: " ").joined(separator: "_")
        return PathText.join(AptRepositoryModule.sourcesFolder, name + ".list")
    }

    /// Every sources file: `\0PATH\0` then its content.
    static let probe = Observation.command(["/bin/sh", "-c",
        "for f in \"$0\" \"$1\"/*.list; do [ -f \"$f\" ] && { printf '\\000%s\\000' \"$f\"; cat -- \"$f\"; }; done; exit 0",
        sourcesList, sourcesFolder])

    func observations(_ context: ModuleContext) -> [Observation] {
        [AptRepositoryModule.probe, .file(path: suggestedFile, content: true)]
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var files: [(path: String, lines: [Line])] = []
        let parts = (observed.command(AptRepositoryModule.probe.argv)?.stdout ?? "").split(separator: "\0", omittingEmptySubsequences: false)
        var index = 1
        while index + 1 < parts.count {
            let lines = parts[index + 1].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            files.append((String(parts[index]), (lines.last == "" ? Array(lines.dropLast()) : lines).compactMap(AptRepositoryModule.parse)))
            index += 2
        }
        let before = files.map { ($0.path, $0.lines.map(\.text).joined()) }
        var added: [String] = [], removed: [String] = []
        if present {
            var found = false
            for f in files.indices {
                for l in files[f].lines.indices where files[f].lines[l].valid && files[f].lines[l].source == source {
                    files[f].lines[l].enabled = true
                    found = true
                }
            }
            if !found {
                if let f = files.firstIndex(where: { $0.path == suggestedFile }) {
                    files[f].lines.append(Line(valid: true, enabled: true, source: source, comment: ""))
                } else {
                    files.append((suggestedFile, [Line(valid: true, enabled: true, source: source, comment: "")]))
                    added.append(suggestedFile)
                }
            }
        } else {
            for f in files.indices { files[f].lines.removeAll { $0.valid && $0.enabled && $0.source == source } }
            removed = files.filter { $0.lines.isEmpty }.map(\.path)
        }
        var changes: [Change] = []
        var changedFiles: [String] = []
        for (path, lines) in files {
            let old = before.first { $0.0 == path }?.1
            let text = lines.map(\.text).joined()
            guard old != text else { continue }
            changedFiles.append(path)
            let current = observed.files[path] ?? (path == suggestedFile ? observed.file(suggestedFile) : nil)
            let file = RepositoryFile(path: path, mode: added.contains(path) ? mode : current?.mode ?? 0o644)
            if lines.isEmpty {
                changes.append(Change("remove \(path)", diff: TextDiff(label: path, before: old ?? "", after: ""), actions: [.remove(path: path)]))
            } else {
                var change = Change(old == nil ? "create \(path)" : "update \(path)", diff: TextDiff(label: path, before: old ?? "", after: text),
                                    actions: [.writeFile(path: path, content: Array(text.utf8), attributes: FileAttributes(mode: file.mode), backup: false)])
                if old == nil { change.summary = "add \(source) in \(path)" }
                changes.append(change)
            }
        }
        if !changes.isEmpty && updateCache {
            // As Ansible: when the refresh fails, the sources go back to what they were.
            changes.append(Change("update the package index", actions: [.run(refresh(restoring: changedFiles, before))]))
        }
        let result: ValueDict = ["repo": .string(source), "state": .string(present ? "present" : "absent"),
                                 "sources_added": .list(added.map(Value.string)), "sources_removed": .list(removed.map(Value.string))]
        return Plan(changes: changes, result: result)
    }

    /// `apt-get update`, and on failure the changed files restored (new ones removed).
    static let refreshScript = #"""
    apt-get update -q < /dev/null && exit 0
    rc=$?
    while [ $# -gt 0 ]; do
      case $1 in
        restore) head -c "$2" > "$3.provision-restore" && mv -f -- "$3.provision-restore" "$3"; shift 3 ;;
        *) rm -f -- "$2"; shift 2 ;;
      esac
    done
    echo "Failed to update apt cache: the sources were restored" >&2
    exit "$rc"
    """#

    func refresh(restoring paths: [String], _ before: [(String, String)]) -> Command {
        var argv = ["/bin/sh", "-c", AptRepositoryModule.refreshScript, "sh"]
        var stdin = ""
        for path in paths {
            if let old = before.first(where: { $0.0 == path })?.1 {
                argv += ["restore", String(old.utf8.count), path]
                stdin += old
            } else {
                argv += ["remove", path]
            }
        }
        return Command(argv, environment: PackageManager.aptEnvironment, stdin: Array(stdin.utf8))
    }
}
