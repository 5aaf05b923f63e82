import Provisioner

/// What `storage_conf`, `registries_conf` and `containers_conf` share: which file
/// they edit (`/etc/containers/NAME`, a given `path`, or a user's
/// `~/.config/containers/NAME` for rootless podman), reading it, turning YAML
/// values into TOML, and the changes that write the edited text.
///
/// A user's file is found through their home directory in the passwd database,
/// looked up by the same probe that reads the file (a probe cannot use another's
/// answer). podman would use $XDG_CONFIG_HOME instead when the user's session sets
/// it; that cannot be seen from here.
struct ContainersConfigFile: Sendable {
    static func specs(_ fileName: String) -> [ArgumentSpec] {
        [
            ArgumentSpec("path", .path, doc: "the file to edit (default /etc/containers/\(fileName)); not with user"),
            ArgumentSpec("user", .string, doc: "edit this user's ~/.config/containers/\(fileName) (rootless podman) "
                + "instead, owned by the user; the home directory is looked up on the host"),
        ]
    }

    /// The host's file does not allow the edit; the task fails with this.
    struct Refusal: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The file as observed.
    struct Target {
        var path: String
        /// Nil when the file does not exist.
        var text: String?
        var state: FileState?
        var parentExists: Bool
        /// The user in user scope, with their home and primary group id.
        var user: AccountDatabase.User?
        /// Check mode, and the user does not exist yet: nothing could be read.
        var isPlaceholder = false
    }

    let fileName: String
    let path: String?
    let user: String?

    /// `rootReadsUserFile`: whether rootful podman reads ~root/.config/containers/NAME
    /// (only registries.conf; the others are read from there in rootless mode only).
    init(_ arguments: ModuleArguments, fileName: String, rootReadsUserFile: Bool = false) throws {
        self.fileName = fileName
        path = arguments.string("path")
        user = arguments.string("user")
        if path != nil && user != nil {
            throw ModuleError("path and user are mutually exclusive: user edits ~USER/.config/containers/\(fileName)",
                              argument: "user")
        }
        if let path, !path.hasPrefix("/") {
            throw ModuleError("path must be absolute, not '\(path)'", argument: "path")
        }
        if let user, user.isEmpty || user.contains(":") || user.contains("/") || user.contains("\n") {
            throw ModuleError("'\(user)' is not a valid user name", argument: "user")
        }
        if user == "root" && !rootReadsUserFile {
            throw ModuleError("podman running as root does not read ~root/.config/containers/\(fileName) (only rootless "
                + "podman reads a user's file); leave user out to edit /etc/containers/\(fileName)", argument: "user")
        }
    }

    /// The file in system scope (or the one given as `path`).
    var systemPath: String { path ?? "/etc/containers/\(fileName)" }

    var isUserScope: Bool { user != nil }

    func observations() -> [Observation] {
        guard let user else {
            return [.file(path: systemPath, content: true), .file(path: PathText.directory(of: systemPath), content: false)]
        }
        return [.command(userProbe(user))]
    }

    static let contentMarker = "--- content ---"

    /// The user's passwd entry, whether `~/.config/containers` exists, the file's
    /// `stat` (or "missing"), then the marker and the bytes of a regular file. One
    /// probe, because the path depends on the home directory found on the host.
    func userProbe(_ user: String) -> [String] {
        let script = """
            entry=$(getent passwd "$1") || exit 2
            home=${entry#*:*:*:*:*:}; home=${home%%:*}
            dir=$home/.config/containers; f=$dir/$2
            printf '%s\\n' "$entry"
            if [ -d "$dir" ]; then echo dir; else echo nodir; fi
            if [ -e "$f" ] || [ -L "$f" ]; then stat -c "$3" -- "$f" || exit 3; else echo missing; fi
            if [ -f "$f" ] && [ ! -L "$f" ]; then echo '\(ContainersConfigFile.contentMarker)'; cat -- "$f" || exit 3; fi
            """
        return ["/bin/sh", "-c", script, "sh", user, fileName, HostProbes.statFormat]
    }

    /// The observed file; throws a `Refusal` when it cannot be edited.
    func target(_ observed: Observations, _ context: ModuleContext) throws -> Target {
        guard let user else {
            let state = observed.file(systemPath)
            try checkKind(state, systemPath)
            let parent = PathText.directory(of: systemPath)
            return Target(path: systemPath, text: state?.content.map { String(decoding: $0, as: UTF8.self) }, state: state,
                          parentExists: observed.file(parent) != nil, user: nil)
        }
        let output = observed.command(userProbe(user))
        guard let output, output.status == 0 else {
            if output?.status == 2 {
                // In check mode the task that creates the user has not run.
                if context.checkMode {
                    return Target(path: "~\(user)/.config/containers/\(fileName)", text: nil, state: nil, parentExists: false,
                                  user: nil, isPlaceholder: true)
                }
                throw Refusal("user \(user) does not exist; create it first (user module), or give path instead")
            }
            let why = output.map { $0.stderr.trimming("\n") } ?? "no answer"
            throw Refusal("cannot read ~\(user)/.config/containers/\(fileName): \(why)")
        }
        var lines = output.stdout.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, let account = AccountDatabase.user(CommandOutput(status: 0, stdout: lines[0])) else {
            throw Refusal("cannot read ~\(user)/.config/containers/\(fileName): unexpected answer \(output.stdout.prefix(200))")
        }
        let path = PathText.join(account.home, ".config/containers/\(fileName)")
        let state = lines[2] == "missing" ? nil : HostProbes.parseStat(CommandOutput(status: 0, stdout: lines[2]))?.state
        try checkKind(state, path)
        var text: String?
        if lines.count == 4 {
            let rest = lines.removeLast()
            let marker = ContainersConfigFile.contentMarker + "\n"
            text = rest.hasPrefix(marker) ? String(rest.dropFirst(marker.count)) : nil
        }
        return Target(path: path, text: text, state: state, parentExists: lines[1] == "dir", user: account)
    }

    private func checkKind(_ state: FileState?, _ path: String) throws {
        switch state?.kind {
        case .link?: throw Refusal("\(path) is a symbolic link; give the file it points to as path")
        case .directory?, .other?: throw Refusal("\(path) is not a regular file")
        default: break
        }
    }

    /// An editor on the file's text, or on `seed` (read from `seedPath`) when it is missing.
    func editor(_ target: Target, seed: String = "", seedPath: String? = nil) throws -> TOMLEditor {
        do {
            if let text = target.text { return try TOMLEditor(text: text, file: target.path) }
            return try TOMLEditor(text: seed, file: seedPath ?? target.path)
        } catch {
            throw Refusal("\(error); fix or remove the file")
        }
    }

    /// The changes that leave `editor`'s text in the file: a missing directory, the
    /// atomic write (mode 0644, the user's in user scope), and in user scope the
    /// owner of a file that already says the right thing. `what` names the edits for the summary.
    func changes(_ editor: TOMLEditor, _ target: Target, what: [String]) -> [Change] {
        let owner = target.user.map { FileAttributes(owner: $0.name, group: String($0.gid)) } ?? FileAttributes()
        let text = editor.text
        var changes: [Change] = []
        // A missing file that needs no edit stays missing: what podman reads without it is what was asked.
        if target.text == nil && !editor.isChanged { return [] }
        if text == target.text {
            if let user = target.user, let state = target.state, state.owner != user.name {
                changes.append(Change("owner of \(target.path): \(state.owner) -> \(user.name)",
                                      actions: [.setAttributes(path: target.path, attributes: owner)]))
            }
            return changes
        }
        if !target.parentExists {
            let directory = PathText.directory(of: target.path)
            var attributes = owner
            // A user's config stays private; system files must be readable by rootless users.
            attributes.mode = target.user == nil ? 0o755 : 0o700
            changes.append(Change("create directory \(directory)", actions: [.makeDirectory(path: directory, attributes: attributes)]))
        }
        var attributes = owner
        attributes.mode = 0o644
        let verb = target.text == nil ? "create" : "update"
        let details = what.isEmpty ? "" : ": " + what.joined(separator: ", ")
        changes.append(Change("\(verb) \(target.path)\(details)",
                              diff: TextDiff(label: target.path, before: target.text ?? "", after: text),
                              actions: [.writeFile(path: target.path, content: Array(text.utf8), attributes: attributes, backup: false)]))
        return changes
    }

    /// Runs a module's planning, turning refusals and edits the file's structure
    /// forbids into a failed plan.
    static func planning(_ body: () throws -> Plan) throws -> Plan {
        do {
            return try body()
        } catch let refusal as Refusal {
            return .failed(refusal.message)
        } catch let error as TOMLEditError {
            return .failed("\(error); edit the file by hand or remove the conflicting entry")
        }
    }

    // MARK: Values

    /// A YAML value as TOML; TOML has no null.
    static func toml(_ value: Value, at name: String, argument: String) throws -> TOMLValue {
        switch value {
        case .null:
            throw ModuleError("\(name) is null, which TOML cannot express; leave it out", argument: argument)
        case .bool(let b): return .boolean(b)
        case .int(let i): return .integer(Int64(i))
        case .float(let d): return .float(d)
        case .string(let s): return .string(s)
        case .list(let items):
            return .array(try items.enumerated().map { try toml($0.element, at: "\(name)[\($0.offset)]", argument: argument) })
        case .dict(let dict):
            return .table(try table(dict, at: name, argument: argument))
        case .unsafe(let inner):
            return try toml(inner, at: name, argument: argument)
        }
    }

    static func table(_ dict: ValueDict, at name: String, argument: String) throws -> TOMLTable {
        var table = TOMLTable()
        for (key, value) in dict { table[key] = try toml(value, at: name.isEmpty ? key : "\(name).\(key)", argument: argument) }
        return table
    }

    /// Sets each key of `table` in `path`; tables become (or extend) tables of their
    /// own rather than replacing what is there. Appends what changed to `changed`.
    static func merge(_ table: TOMLTable, into path: [String], _ editor: inout TOMLEditor, changed: inout [String]) throws {
        if table.isEmpty, try editor.addTable(path) { changed.append("[\(path.joined(separator: "."))]") }
        for (key, value) in table.entries {
            if let sub = value.table {
                try merge(sub, into: path + [key], &editor, changed: &changed)
            } else if try editor.set(key, to: value, in: TOMLTableAddress(path)) {
                changed.append((path + [key]).joined(separator: "."))
            }
        }
    }
}
