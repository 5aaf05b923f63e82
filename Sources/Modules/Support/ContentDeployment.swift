import Provisioner

/// What `copy` and `template` share: put given bytes at a destination (or inside it,
/// when it is a directory), with mode, owner, group and an optional backup.
struct ContentDeployment: Sendable {
    /// Arguments both modules declare with the same meaning.
    static let specs: [ArgumentSpec] = [
        ArgumentSpec("backup", .bool, default: false, doc: "keep the old file as PATH.PID.DATE@TIME~ before replacing it"),
        ArgumentSpec("force", .bool, default: true, doc: "replace a file whose content differs; with 'no', only create a missing one"),
        ArgumentSpec("follow", .bool, default: false, doc: "write through a symbolic link at dest (not supported: dest must not be a link)"),
        Validation.spec,
    ] + FileAttributeArguments.specs

    /// Ansible's diff limit (`MAX_FILE_SIZE_FOR_DIFF`): larger files are not shown.
    static let diffLimit = 104_448

    var dest: String
    /// The source's file name, used when `dest` is a directory; nil for inline content.
    var sourceName: String?
    var attributes: FileAttributeArguments
    var backup: Bool
    var force: Bool
    /// Mode for directories created when `dest` ends in "/".
    var directoryMode: UInt32?
    var follow: Bool
    var validation: Validation?

    init(_ arguments: ModuleArguments, sourceName: String?) throws {
        dest = arguments.string("dest") ?? ""
        self.sourceName = sourceName
        attributes = FileAttributeArguments(arguments)
        backup = arguments.bool("backup")
        force = arguments.bool("force")
        directoryMode = try arguments.mode("directory_mode", isDirectory: true)
        follow = arguments.bool("follow")
        validation = try Validation(arguments)
        if dest.isEmpty { throw ModuleError("dest must not be empty", argument: "dest") }
        if sourceName == nil && dest.hasSuffix("/") {
            throw ModuleError("can not use content with a dir as dest", argument: "dest")
        }
    }

    /// "dest/" names a directory outright; otherwise dest may turn out to be one.
    var namedDirectory: Bool { dest.hasSuffix("/") }

    var inside: String? { sourceName.map { PathText.join(dest, $0) } }

    func observations() -> [Observation] {
        var wanted: [Observation] = attributes.observations()
        if namedDirectory, let inside {
            wanted += [.file(path: inside, content: true), .file(path: PathText.directory(of: inside), content: false)]
        } else {
            wanted.append(.file(path: dest, content: true))
            if let parent = PathText.directory(of: dest).nonEmpty { wanted.append(.file(path: parent, content: false)) }
            if let inside { wanted.append(.file(path: inside, content: true)) }
        }
        return wanted
    }

    /// The plan that leaves `content` at the destination.
    /// In check mode a missing parent is not an error, as in Ansible: an earlier task may create it.
    func plan(_ content: [UInt8], _ observed: Observations, checkMode: Bool = false,
              result extra: ValueDict = ValueDict()) throws -> Plan {
        var changes: [Change] = []
        var target = dest
        if namedDirectory, let inside {
            target = inside
            let folder = PathText.directory(of: inside)
            if observed.file(folder) == nil {
                // Ansible creates the missing folders with directory_mode and the file's owner and group.
                changes.append(Change("create directory \(folder)", actions: [
                    .makeDirectory(path: folder, attributes: FileAttributes(mode: directoryMode, owner: attributes.owner, group: attributes.group)),
                ]))
            }
        } else if observed.file(dest)?.kind == .directory {
            guard let inside else { return .failed("can not use content with a dir as dest") }
            target = inside
        } else if !checkMode, observed.file(dest) == nil, let parent = PathText.directory(of: dest).nonEmpty, observed.file(parent) == nil {
            return .failed("Destination directory \(parent) does not exist")
        }
        var result = extra
        result["dest"] = .string(target)
        result["size"] = .int(content.count)
        let current = observed.file(target)
        if current != nil && !force {
            result["msg"] = "file already exists"
            return Plan(changes: changes, result: result)
        }
        if current?.kind == .directory {
            return .failed("\(target) is a directory")
        }
        if follow, current?.kind == .link {
            // The link's target was not observed, so its content cannot be compared.
            return .failed("\(target) is a symbolic link and follow: yes is not supported; give the link's target as dest")
        }
        if let current, current.kind == .file, current.content == content {
            changes += try attributes.changes(target, current, observed)
        } else {
            changes.append(try write(content, to: target, over: current, observed))
        }
        result["state"] = "file"
        return Plan(changes: changes, result: result)
    }

    /// The content aspect: one atomic write carrying the wanted attributes.
    func write(_ content: [UInt8], to target: String, over current: FileState?, _ observed: Observations) throws -> Change {
        var wanted = try attributes.forNewPath(isDirectory: false)
        var summary: String
        switch current?.kind {
        case nil:
            summary = "create \(target)"
        case .link?:
            summary = "replace link \(target) with a file"
        default:
            summary = "update \(target)"
            if let current {
                wanted.mode = try attributes.mode(current: current, isDirectory: false)
                let differences = try attributes.differences(current, observed)
                if !differences.isEmpty { summary += " (\(differences.joined(separator: ", ")))" }
            }
        }
        let before = current?.kind == .file ? ContentDeployment.diffText(current?.content ?? []) : ""
        let check = validation?.actions(for: target, content: content, attributes: wanted) ?? []
        return Change(summary, diff: TextDiff(label: target, before: before, after: ContentDeployment.diffText(content)),
                      actions: check + [.writeFile(path: target, content: content, attributes: wanted, backup: backup && current?.kind == .file)])
    }

    /// Text for `--diff`: binary or very large content becomes a one-line note.
    static func diffText(_ bytes: [UInt8]) -> String {
        if bytes.prefix(8192).contains(0) { return "[binary content, \(bytes.count) bytes: not shown]\n" }
        if bytes.count > diffLimit { return "[\(bytes.count) bytes, larger than \(diffLimit): not shown]\n" }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// Nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
