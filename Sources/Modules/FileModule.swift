import Provisioner

/// Ansible's `file`: a path's existence and type (file, directory, symbolic or hard
/// link, absent), its mode and ownership (optionally through a whole tree), and
/// its timestamps.
struct FileModule: Module {
    static let name = "file"
    static let summary = "Manage files, directories, links and their attributes"
    /// Files only: queued unit restarts may wait past this task (a unit and its config files, one reload).
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("path", .path, required: true, aliases: ["dest", "name"], doc: "path to manage"),
        ArgumentSpec("state", .string, choices: ["absent", "directory", "file", "hard", "link", "touch"],
                     doc: "what the path should be; default: what it is now, or 'file' (which then must exist)"),
        ArgumentSpec("src", .path, doc: "target of the link (state link or hard)"),
        ArgumentSpec("force", .bool, default: false,
                     doc: "make the link even if its target is missing, or replace a file or empty directory by it"),
        ArgumentSpec("recurse", .bool, default: false, doc: "apply mode, owner and group to everything below a directory"),
        ArgumentSpec("follow", .bool, default: true, doc: "apply attributes to the target of a symbolic link, not the link"),
        ArgumentSpec("modification_time", .string, doc: "'preserve', 'now' or a time in modification_time_format"),
        ArgumentSpec("modification_time_format", .string, default: "%Y%m%d%H%M.%S", doc: "strptime format of modification_time"),
        ArgumentSpec("access_time", .string, doc: "'preserve', 'now' or a time in access_time_format"),
        ArgumentSpec("access_time_format", .string, default: "%Y%m%d%H%M.%S", doc: "strptime format of access_time"),
    ] + FileAttributeArguments.specs + SELinuxContext.specs

    enum State: String { case absent, directory, file, hard, link, touch }

    let path: String
    let state: State?
    let src: String?
    let force: Bool
    let recurse: Bool
    let follow: Bool
    let attributes: FileAttributeArguments
    let selinux: SELinuxContext
    let modificationTime: String?
    let accessTime: String?
    let modificationFormat: String
    let accessFormat: String

    init(_ arguments: ModuleArguments) throws {
        path = arguments.string("path") ?? ""
        state = arguments.string("state").flatMap(State.init(rawValue:))
        src = arguments.string("src")
        force = arguments.bool("force")
        recurse = arguments.bool("recurse")
        follow = arguments.bool("follow")
        attributes = FileAttributeArguments(arguments)
        selinux = SELinuxContext(arguments)
        modificationTime = arguments.string("modification_time")
        accessTime = arguments.string("access_time")
        modificationFormat = arguments.string("modification_time_format") ?? "%Y%m%d%H%M.%S"
        accessFormat = arguments.string("access_time_format") ?? "%Y%m%d%H%M.%S"
        if let state { try check(state) }
        // Formats are checked now, whatever the state turns out to be.
        _ = try times(for: state ?? .file)
        if path.isEmpty { throw ModuleError("path must not be empty", argument: "path") }
    }

    /// Combinations Ansible refuses (checked again once a default state is known).
    func check(_ state: State) throws {
        if recurse && state != .directory {
            throw ModuleError("recurse option requires state to be 'directory'", argument: "recurse")
        }
        if src != nil && state != .link && state != .hard {
            throw ModuleError("src option requires state to be 'link' or 'hard'", argument: "src")
        }
    }

    /// Timestamps default to `preserve`, except `touch`, which sets both to now.
    func times(for state: State) throws -> (modified: Timestamp, accessed: Timestamp) {
        let fallback: Timestamp = state == .touch ? .now : .preserve
        return (try Timestamp(modificationTime, format: modificationFormat, default: fallback, argument: "modification_time"),
                try Timestamp(accessTime, format: accessFormat, default: fallback, argument: "access_time"))
    }

    // MARK: Observations

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted: [Observation] = [.file(path: path, content: false)]
        guard state != .absent else { return wanted }
        wanted += attributes.observations()
        if !selinux.isEmpty { wanted.append(SELinuxContext.probe(path, follow: follow)) }
        // Access times need `stat` itself; what a link leads to, the transport's followed stat.
        if !times.isEmpty {
            wanted.append(HostProbes.stat(path, follow: follow))
        } else if follow {
            wanted.append(.target(path: path))
        }
        for case .wallClock(let clock)? in [try? Timestamp(modificationTime, format: modificationFormat, default: .preserve, argument: ""),
                                            try? Timestamp(accessTime, format: accessFormat, default: .preserve, argument: "")] {
            wanted.append(HostProbes.epoch(clock))
        }
        if let src {
            if state == .hard {
                wanted += [.file(path: src, content: false), HostProbes.identity(src), HostProbes.identity(path)]
            } else {
                wanted += [.file(path: PathText.join(PathText.directory(of: path), src), content: false),
                           .file(path: PathText.join(path, src), content: false)]
            }
        }
        if state == .link && force { wanted.append(HostProbes.firstEntry(path)) }
        if recurse { wanted.append(HostProbes.tree(path, follow: follow)) }
        return wanted
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let current = observed.file(path)
        // Ansible's default: the path's current kind, else a directory for recurse, else a file.
        let state = self.state ?? (current.map { $0.kind == .link ? .link : $0.kind == .directory ? .directory : .file }
                                   ?? (recurse ? .directory : .file))
        try check(state)
        var plan: Plan
        switch state {
        case .absent: return absent(current)
        case .file: plan = try existing(current, observed)
        case .directory: plan = try directory(current, observed)
        case .touch: plan = try touch(current, observed)
        case .link: plan = try symbolicLink(current, observed)
        case .hard: plan = try hardLink(current, observed)
        }
        // The SELinux context aspect, last: it applies to what the other aspects leave there.
        if plan.failure == nil, let change = selinux.change(path, follow: follow, observed) { plan.changes.append(change) }
        return plan
    }

    /// The state a followed link leads to: the target's, as `stat -L` saw it.
    func followed(_ current: FileState?, _ observed: Observations) -> FileState? {
        guard follow, current?.kind == .link else { return current }
        return times.isEmpty ? observed.target(path) : HostProbes.parseStat(observed.command(statArgv))?.state
    }

    /// The times asked for other than "preserve": they need the access time, which only `stat` prints.
    var times: [String] { [modificationTime, accessTime].compactMap { $0 }.filter { $0 != "preserve" } }

    var statArgv: [String] { HostProbes.stat(path, follow: follow).argv }

    func result(_ state: State, _ final: FileState?) -> ValueDict {
        var result = ValueDict([("path", .string(path)), ("state", .string(state.rawValue))])
        if let final, state != .absent {
            result["mode"] = .string(FileMode.text(final.mode))
            result["owner"] = .string(final.owner)
            result["group"] = .string(final.group)
        }
        return result
    }

    // MARK: Aspect: existence and type

    func absent(_ current: FileState?) -> Plan {
        guard let current else { return Plan(result: result(.absent, nil)) }
        let change = Change("remove \(current.kind.stateName) \(path)", diff: stateDiff(from: current.kind.stateName, to: "absent"),
                            actions: [.remove(path: path)])
        return Plan(changes: [change], result: result(.absent, nil))
    }

    /// `state: file` only asserts that a file is there and converges its attributes.
    func existing(_ current: FileState?, _ observed: Observations) throws -> Plan {
        let target = followed(current, observed)
        guard let target, target.kind == .file || target.kind == .other else {
            return .failed("file (\(path)) is \(target.map { $0.kind.stateName } ?? "absent"), cannot continue")
        }
        let changes = try attributeChanges(target, observed, throughLink: current?.kind == .link) + timeChanges(.file, target, observed)
        return Plan(changes: changes, result: result(.file, final(target, changes.isEmpty)))
    }

    func directory(_ current: FileState?, _ observed: Observations) throws -> Plan {
        guard let current else {
            let attributes = try self.attributes.forNewPath(isDirectory: true)
            let created = Change("create directory \(path)" + describe(attributes), diff: stateDiff(from: "absent", to: "directory"),
                                 actions: [.makeDirectory(path: path, attributes: attributes)])
            return Plan(changes: [created] + (try timeChanges(.directory, nil, observed)), result: result(.directory, nil))
        }
        let target = followed(current, observed)
        guard let target, target.kind == .directory else {
            return .failed("\(path) already exists as a \(target.map { $0.kind.stateName } ?? "link to nothing")")
        }
        var changes = try attributeChanges(target, observed, throughLink: current.kind == .link)
        changes += try timeChanges(.directory, target, observed)
        if recurse, let tree = try treeChange(observed) { changes.append(tree) }
        return Plan(changes: changes, result: result(.directory, final(target, changes.isEmpty)))
    }

    /// `touch` creates a missing file; an existing one gets its times set (now, by default).
    func touch(_ current: FileState?, _ observed: Observations) throws -> Plan {
        guard let current else {
            let attributes = try self.attributes.forNewPath(isDirectory: false)
            let created = Change("create empty file \(path)" + describe(attributes), diff: stateDiff(from: "absent", to: "file"),
                                 actions: [.writeFile(path: path, content: [], attributes: attributes, backup: false)])
            // A new file's times are already "now"; only explicit times need setting.
            let (modified, accessed) = try times(for: .touch)
            let explicit = try timeChanges(.touch, nil, observed,
                                           times: (modified == .now ? .preserve : modified, accessed == .now ? .preserve : accessed))
            return Plan(changes: [created] + explicit, result: result(.touch, nil))
        }
        let target = followed(current, observed) ?? current
        let changes = try attributeChanges(target, observed, throughLink: current.kind == .link && follow)
            + timeChanges(.touch, target, observed)
        return Plan(changes: changes, result: result(.touch, target))
    }

    func symbolicLink(_ current: FileState?, _ observed: Observations) throws -> Plan {
        // Without src, an existing link keeps its target (only attributes are converged).
        let source = src ?? (current?.kind == .link ? current?.linkTarget : nil)
        if let source = src, !force {
            let base = current?.kind == .directory ? path : PathText.directory(of: path)
            let absolute = PathText.join(base, source)
            if observed.files[absolute] == nil {
                return .failed("src file does not exist, use 'force=yes' if you really want to create the link: \(absolute)")
            }
        }
        var actions: [Action] = []
        switch current?.kind {
        case .directory?:
            guard force else { return .failed("refusing to convert from directory to symlink for \(path)") }
            if let listing = observed.command(HostProbes.firstEntry(path).argv), !listing.stdout.isEmpty {
                return .failed("the directory \(path) is not empty, refusing to convert it")
            }
            actions.append(.remove(path: path))
        case .file?, .other?:
            guard force else { return .failed("refusing to convert from file to symlink for \(path)") }
        case .link?, nil:
            break
        }
        guard let source else { return .failed("src is required for creating new symlinks") }
        var changes: [Change] = []
        if current?.kind != .link || current?.linkTarget != source {
            actions.append(.symlink(path: path, target: source))
            let before = current?.kind == .link ? "link -> \(current?.linkTarget ?? "")" : current?.kind.stateName ?? "absent"
            changes.append(Change("link \(path) -> \(source)",
                                  diff: TextDiff(label: path, before: "state: \(before)\n", after: "state: link -> \(source)\n"),
                                  actions: actions))
        }
        // Attributes go to the link's target when following, to the link itself otherwise.
        if !attributes.isEmpty {
            if let current, current.kind == .link, current.linkTarget == source {
                if follow {
                    if let target = followed(current, observed) {
                        changes += try attributeChanges(target, observed, throughLink: true)
                    }
                } else if let ownership = attributes.ownershipChange(path, current, observed) {
                    changes.append(ownership)
                }
            } else if follow {
                // A new link: its target's attributes are unknown until it exists; set them,
                // unless the target is missing (Ansible only warns then).
                let base = current?.kind == .directory ? path : PathText.directory(of: path)
                if observed.files[PathText.join(base, source)] != nil { changes += try attributeCommands(nil) }
            } else if attributes.owner != nil || attributes.group != nil {
                changes.append(Change("owner/group of link \(path)", actions: [
                    .setAttributes(path: path, attributes: FileAttributes(owner: attributes.owner, group: attributes.group)),
                ]))
            }
        }
        return Plan(changes: changes, result: ValueDict([("dest", .string(path)), ("path", .string(path)),
                                                         ("src", .string(source)), ("state", "link")]))
    }

    func hardLink(_ current: FileState?, _ observed: Observations) throws -> Plan {
        let identity = observed.command(HostProbes.identity(path).argv).flatMap(Self.identity)
        let isHard = current?.kind == .file && (identity?.links ?? 1) > 1
        guard let src else {
            return isHard ? Plan(result: result(.hard, current)) : .failed("src is required for creating new hardlinks")
        }
        guard observed.files[src] != nil, let source = observed.command(HostProbes.identity(src).argv).flatMap(Self.identity) else {
            return .failed("src does not exist")
        }
        switch current?.kind {
        case nil:
            break
        case .link?:
            if current?.linkTarget == src { return Plan(result: result(.hard, current)) }
        case .directory?:
            if identity?.inode == source.inode { return Plan(result: result(.hard, current)) }
            return .failed("Cannot link: different hard link exists at destination")
        case .file?, .other?:
            if identity?.inode == source.inode {
                let changes = try attributeChanges(current ?? FileState(kind: .file, mode: 0, owner: "", group: ""), observed,
                                                   throughLink: false)
                return Plan(changes: changes, result: result(.hard, current))
            }
            guard force else {
                return .failed(isHard ? "Cannot link, different hard link exists at destination" : "Cannot link, file exists at destination")
            }
        }
        let link = Change("hard link \(path) => \(src)", diff: stateDiff(from: current?.kind.stateName ?? "absent", to: "hard"),
                          actions: [.run(Command(["ln", follow ? "-L" : "-P", "-f", "-T", "--", src, path]))])
        return Plan(changes: [link] + (try attributeCommands(nil)), result: result(.hard, nil))
    }

    static func identity(_ output: CommandOutput) -> (links: Int, inode: String)? {
        guard output.status == 0 else { return nil }
        let parts = output.stdout.trimming("\n").split(separator: " ")
        guard parts.count == 2, let links = Int(parts[0]) else { return nil }
        return (links, String(parts[1]))
    }

    // MARK: Aspects: mode, owner and group

    /// Mode and ownership of an existing path. Through a followed link, `chmod`/`chown`
    /// (which follow links) do it; otherwise the transport's attribute action does.
    func attributeChanges(_ target: FileState, _ observed: Observations, throughLink: Bool) throws -> [Change] {
        let changes = try attributes.changes(path, target, observed)
        guard throughLink else { return changes }
        return try changes.map { change in
            var change = change
            change.actions = try change.actions.flatMap { action -> [Action] in
                guard case .setAttributes(_, let wanted) = action else { return [action] }
                return try attributeCommands(wanted).flatMap(\.actions)
            }
            return change
        }
    }

    /// `chmod`/`chown` commands for attributes that cannot be compared first (`nil`: all requested).
    func attributeCommands(_ wanted: FileAttributes?) throws -> [Change] {
        let wanted = try wanted ?? FileAttributes(mode: attributes.mode(current: FileState(kind: .file, mode: 0o644, owner: "", group: ""),
                                                                         isDirectory: false),
                                                  owner: attributes.owner, group: attributes.group)
        var actions: [Action] = []
        if let mode = wanted.mode { actions.append(.run(Command(["chmod", FileMode.text(mode), "--", path]))) }
        if wanted.owner != nil || wanted.group != nil {
            let spec = (wanted.owner ?? "") + (wanted.group.map { ":" + $0 } ?? "")
            actions.append(.run(Command(["chown", spec, "--", path])))
        }
        return actions.isEmpty ? [] : [Change("\(wanted) on \(path)", actions: actions)]
    }

    /// Everything below a directory gets the same mode and ownership (links: ownership only).
    func treeChange(_ observed: Observations) throws -> Change? {
        guard let entries = HostProbes.parseTree(observed.command(HostProbes.tree(path, follow: follow).argv)) else {
            return nil
        }
        var actions: [Action] = []
        for (entry, state) in entries {
            for change in try attributes.changes(entry, state, observed) { actions += change.actions }
        }
        guard !actions.isEmpty else { return nil }
        return Change("\(attributes.requested) on \(actions.count) paths below \(path)", actions: actions)
    }

    // MARK: Aspect: times

    func timeChanges(_ state: State, _ target: FileState?, _ observed: Observations,
                     times override: (modified: Timestamp, accessed: Timestamp)? = nil) throws -> [Change] {
        let (modified, accessed) = try override ?? times(for: state)
        if modified == .preserve && accessed == .preserve { return [] }
        let throughLink = follow && observed.files[path]?.kind == .link
        if modified == .now && accessed == .now {
            // The transport's touch does not follow links; touch(1) does.
            let action: Action = throughLink ? .run(Command(["touch", "-c", "--", path])) : .touch(path: path)
            return [Change("set times of \(path) to now", actions: [action])]
        }
        let stat = HostProbes.parseStat(observed.command(statArgv))
        var actions: [Action] = [], words: [String] = []
        let noDereference = !follow && observed.files[path]?.kind == .link ? ["-h"] : []
        for (flag, wanted, name) in [("-m", modified, "modification"), ("-a", accessed, "access")] {
            switch wanted {
            case .preserve:
                continue
            case .now:
                actions.append(.run(Command(["touch", "-c"] + noDereference + [flag, "--", path])))
                words.append("\(name) time now")
            case .wallClock(let clock):
                guard let output = observed.command(HostProbes.epoch(clock).argv), output.status == 0,
                      let epoch = Int(output.stdout.trimming("\n")) else {
                    throw ModuleError("Error while obtaining timestamp for time \(clock): the host's date(1) cannot read it")
                }
                // Unchanged times need nothing (Ansible compares the exact values).
                let currentValue: Double? = flag == "-m" ? (throughLink ? stat?.state.modified : target?.modified)
                                                         : stat.map { Double($0.accessed) }
                if let currentValue, target != nil, currentValue == Double(epoch) { continue }
                actions.append(.run(Command(["touch", "-c"] + noDereference + [flag, "-d", "@\(epoch)", "--", path])))
                words.append("\(name) time \(clock)")
            }
        }
        return actions.isEmpty ? [] : [Change("set \(words.joined(separator: ", ")) of \(path)", actions: actions)]
    }

    // MARK: Helpers

    func stateDiff(from before: String, to after: String) -> TextDiff {
        TextDiff(label: path, before: "path: \(path)\nstate: \(before)\n", after: "path: \(path)\nstate: \(after)\n")
    }

    func describe(_ attributes: FileAttributes) -> String {
        attributes.isEmpty ? "" : " (\(attributes))"
    }

    /// The attributes the path will have, for `register`.
    func final(_ state: FileState, _ unchanged: Bool) -> FileState {
        var final = state
        if !unchanged {
            if let mode = try? attributes.mode(current: state, isDirectory: state.kind == .directory) { final.mode = mode }
            if let owner = attributes.owner { final.owner = owner }
            if let group = attributes.group { final.group = group }
        }
        return final
    }
}

