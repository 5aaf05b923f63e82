import Provisioner

/// Subordinate uid and gid ranges (`/etc/subuid`, `/etc/subgid`) for a user, which
/// rootless podman maps into its containers (container runtime standard §5.1.7).
///
/// Without `start`, a user who already has a range of at least `count` ids keeps it
/// (existing correct entries are never touched); otherwise the lowest free range is
/// allocated, above every range in both files, so the user's uid and gid ranges agree.
/// The bounds are login.defs' SUB_UID_MIN/MAX and SUB_GID_MIN/MAX (shadow's defaults
/// 100000 and 600100000), as useradd allocates. With `start`, the user's entries
/// become exactly that range, and a clash with another user's range is an error.
/// Other lines (comments, other users, lines we cannot read) are kept byte for byte.
struct SubidModule: Module {
    static let name = "subid"
    static let summary = "Subordinate uid/gid ranges for a user (/etc/subuid, /etc/subgid)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, aliases: ["user"], doc: "the user's name"),
        ArgumentSpec("start", .int, doc: "the first id of the range; allocated when not given"),
        ArgumentSpec("count", .int, default: .int(65536), doc: "how many ids"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "absent removes the user's ranges"),
        ArgumentSpec("files", .string, default: "both", choices: ["both", "subuid", "subgid"],
                     doc: "which files to manage"),
    ]

    static let loginDefs = "/etc/login.defs"

    let user: String
    let start: Int?
    let count: Int
    let present: Bool
    let files: [SubidFile]

    init(_ arguments: ModuleArguments) throws {
        user = arguments.string("name") ?? ""
        start = arguments.int("start")
        count = arguments.int("count") ?? 65536
        present = arguments.string("state") != "absent"
        switch arguments.string("files") {
        case "subuid": files = [.uid]
        case "subgid": files = [.gid]
        default: files = [.uid, .gid]
        }
        if user.isEmpty || user.contains(":") || user.contains("\n") || user.contains("/") {
            throw ModuleError("'\(user)' is not a valid user name", argument: "name")
        }
        guard count > 0 else { throw ModuleError("count must be at least 1, not \(count)", argument: "count") }
        if let start, start < 0 || start + count > SubidRanges.idLimit {
            throw ModuleError("the range \(start)+\(count) does not fit in 32-bit ids", argument: "start")
        }
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        files.map { .file(path: $0.path, content: true) } + [.file(path: SubidModule.loginDefs, content: true)]
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var ranges: [SubidFile: SubidRanges] = [:]
        for file in files {
            let text = observed.file(file.path)?.content.map { String(decoding: $0, as: UTF8.self) } ?? ""
            ranges[file] = SubidRanges(text: text, path: file.path)
        }
        let limits = SubidLimits(loginDefs: observed.file(SubidModule.loginDefs)?.content.map { String(decoding: $0, as: UTF8.self) } ?? "")
        var result = ValueDict([("name", .string(user)), ("state", .string(present ? "present" : "absent"))])

        guard present else {
            var changes: [Change] = []
            for file in files {
                guard let current = ranges[file], current.entries.contains(where: { $0.user == user }) else { continue }
                changes.append(write(file, before: current.text, after: current.removing(user).text))
            }
            return Plan(changes: changes, result: result)
        }

        // Files that already give the user what was asked for are left alone.
        let needing = files.filter { file in
            guard let current = ranges[file] else { return true }
            let mine = current.entries.filter { $0.user == user }
            if let start { return mine.count != 1 || mine.first?.start != start || mine.first?.count != count }
            return !mine.contains { $0.count >= count }
        }
        guard !needing.isEmpty else {
            // Nothing to write: report the range the user has.
            if let file = files.first, let mine = ranges[file]?.entries.first(where: { $0.user == user && $0.count >= count }) {
                result["start"] = .int(mine.start)
                result["count"] = .int(mine.count)
            }
            return Plan(result: result)
        }
        let chosen: Int
        if let start {
            for file in needing {
                if let clash = ranges[file]?.entries.first(where: { $0.user != user && $0.overlaps(start, count) }) {
                    return .failed("the range \(start)-\(start + count - 1) for \(user) overlaps \(clash.user)'s range "
                        + "\(clash.start)-\(clash.start + clash.count - 1) (\(file.path):\(clash.line)); choose another start or leave it out")
                }
            }
            chosen = start
        } else {
            let others = needing.flatMap { ranges[$0]?.entries.filter { $0.user != user } ?? [] }
            let bounds = needing.map { limits.bounds(for: $0) }
            let low = bounds.map(\.min).max() ?? SubidLimits.defaultMin, high = bounds.map(\.max).min() ?? SubidLimits.defaultMax
            // The range the user has in the other file, when it is free here, keeps uids and gids alike.
            let kept = files.filter { !needing.contains($0) }.compactMap { file in
                ranges[file]?.entries.first { $0.user == user && $0.count >= count }?.start
            }.first { candidate in !others.contains { $0.overlaps(candidate, count) } }
            guard let free = kept ?? SubidRanges.lowestFree(count, from: low, to: high, avoiding: others) else {
                return .failed("no free range of \(count) ids between \(low) and \(high) in "
                    + needing.map(\.path).joined(separator: " and ") + "; raise SUB_UID_MAX/SUB_GID_MAX in /etc/login.defs, "
                    + "free a range, or give start")
            }
            chosen = free
        }
        var changes: [Change] = []
        for file in needing {
            guard let current = ranges[file] else { continue }
            changes.append(write(file, before: current.text, after: current.removing(user).appending(user, chosen, count).text))
        }
        result["start"] = .int(chosen)
        result["count"] = .int(count)
        return Plan(changes: changes, result: result)
    }

    private func write(_ file: SubidFile, before: String, after: String) -> Change {
        Change("\(present ? "set" : "remove") \(user)'s range in \(file.path)",
               diff: TextDiff(label: file.path, before: before, after: after),
               actions: [.writeFile(path: file.path, content: Array(after.utf8),
                                    attributes: FileAttributes(mode: 0o644, owner: "root", group: "root"), backup: false)])
    }
}

enum SubidFile: Hashable {
    case uid, gid

    var path: String { self == .uid ? "/etc/subuid" : "/etc/subgid" }
}
