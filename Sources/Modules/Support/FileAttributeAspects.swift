import Provisioner

/// The `mode`, `owner` and `group` arguments every file-writing module shares
/// (Ansible's "file common arguments"), and the two aspects they converge.
struct FileAttributeArguments: Sendable {
    static let specs: [ArgumentSpec] = [
        ArgumentSpec("mode", .mode, doc: "permissions: '0644' (quote it), '644' or symbolic 'u=rw,g=r,o=r'"),
        ArgumentSpec("owner", .string, doc: "user that should own the path (name or uid)"),
        ArgumentSpec("group", .string, doc: "group that should own the path (name or gid)"),
    ]

    var arguments: ModuleArguments
    var owner: String?
    var group: String?

    init(_ arguments: ModuleArguments) {
        self.arguments = arguments
        owner = arguments.string("owner")
        group = arguments.string("group")
    }

    var isEmpty: Bool { arguments["mode"] == nil && owner == nil && group == nil }

    /// The attributes as the task gave them ("mode u+x, owner app").
    var requested: String {
        [arguments.int("mode").map { "mode " + FileMode.text(UInt32(clamping: $0)) } ?? arguments.string("mode").map { "mode " + $0 },
         owner.map { "owner " + $0 }, group.map { "group " + $0 }].compactMap { $0 }.joined(separator: ", ")
    }

    /// Numeric ids are looked up so `owner: "0"` matches a file owned by `root`.
    func observations() -> [Observation] {
        var probes: [Observation] = []
        if let owner, Int(owner) != nil { probes.append(.command(["getent", "passwd", owner])) }
        if let group, Int(group) != nil { probes.append(.command(["getent", "group", group])) }
        return probes
    }

    /// The mode wanted for a path in `current` state (symbolic modes build on the current bits).
    func mode(current: FileState?, isDirectory: Bool) throws -> UInt32? {
        if arguments.string("mode") == "preserve" {
            throw ModuleError("mode 'preserve' is only meaningful for copy and template sources", argument: "mode")
        }
        return try arguments.mode("mode", current: current?.mode, isDirectory: isDirectory)
    }

    /// What to give a file being created: the same attributes, resolved against nothing.
    func forNewPath(isDirectory: Bool) throws -> FileAttributes {
        FileAttributes(mode: try mode(current: nil, isDirectory: isDirectory), owner: owner, group: group)
    }

    /// The permission bits aspect: zero or one change.
    func modeChange(_ path: String, _ current: FileState) throws -> Change? {
        // Links have no mode of their own on Linux; chmod would reach the target.
        guard current.kind != .link,
              let wanted = try mode(current: current, isDirectory: current.kind == .directory),
              wanted != current.mode else { return nil }
        return Change("mode of \(path): \(FileMode.text(current.mode)) -> \(FileMode.text(wanted))",
                      diff: TextDiff(label: "\(path) (file attributes)",
                                     before: "mode: \(FileMode.text(current.mode))\n", after: "mode: \(FileMode.text(wanted))\n"),
                      actions: [.setAttributes(path: path, attributes: FileAttributes(mode: wanted))])
    }

    /// The ownership aspect (owner and group together, one chown): zero or one change.
    func ownershipChange(_ path: String, _ current: FileState, _ observed: Observations) -> Change? {
        let newOwner = owner.flatMap { matches($0, current.owner, database: "passwd", observed) ? nil : $0 }
        let newGroup = group.flatMap { matches($0, current.group, database: "group", observed) ? nil : $0 }
        guard newOwner != nil || newGroup != nil else { return nil }
        var before = "", after = "", parts: [String] = []
        if let newOwner {
            before += "owner: \(current.owner)\n"
            after += "owner: \(newOwner)\n"
            parts.append("owner \(current.owner) -> \(newOwner)")
        }
        if let newGroup {
            before += "group: \(current.group)\n"
            after += "group: \(newGroup)\n"
            parts.append("group \(current.group) -> \(newGroup)")
        }
        return Change("\(parts.joined(separator: ", ")) on \(path)",
                      diff: TextDiff(label: "\(path) (file attributes)", before: before, after: after),
                      actions: [.setAttributes(path: path, attributes: FileAttributes(owner: newOwner, group: newGroup))])
    }

    /// Both attribute aspects of an existing path.
    func changes(_ path: String, _ current: FileState, _ observed: Observations) throws -> [Change] {
        [try modeChange(path, current), ownershipChange(path, current, observed)].compactMap { $0 }
    }

    /// Words for the attribute differences a rewrite also makes ("mode 0644 -> 0600").
    func differences(_ current: FileState, _ observed: Observations) throws -> [String] {
        var words: [String] = []
        if current.kind != .link, let wanted = try mode(current: current, isDirectory: false), wanted != current.mode {
            words.append("mode \(FileMode.text(current.mode)) -> \(FileMode.text(wanted))")
        }
        if let owner, !matches(owner, current.owner, database: "passwd", observed) {
            words.append("owner \(current.owner) -> \(owner)")
        }
        if let group, !matches(group, current.group, database: "group", observed) {
            words.append("group \(current.group) -> \(group)")
        }
        return words
    }

    /// Whether the wanted owner (a name or an id) is the current one (a name, or an id
    /// when the id has no name).
    private func matches(_ wanted: String, _ current: String, database: String, _ observed: Observations) -> Bool {
        if wanted == current { return true }
        guard Int(wanted) != nil else { return false }
        guard let entry = observed.command(["getent", database, wanted]), entry.status == 0,
              let name = entry.stdout.split(separator: ":", omittingEmptySubsequences: false).first else { return false }
        return String(name) == current
    }
}
