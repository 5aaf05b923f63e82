/// What a module asks to read from a host before planning. The engine gathers
/// the observations of many tasks in one round trip; a module never reads itself.
public enum Observation: Hashable, Sendable {
    /// `lstat` of a path, and its bytes when `content` is true and it is a regular file.
    case file(path: String, content: Bool)
    /// A read-only probe (`getent passwd x`, `systemctl is-enabled y`): exit status and output.
    case command([String])
    /// `stat` of what a path leads to, links followed (no content); absent when that does not
    /// resolve (missing, dangling or looping link, no permission).
    case target(path: String)
}

extension Observation {
    /// The argv of a command observation (empty for the others), to look its answer up.
    public var argv: [String] {
        if case .command(let argv) = self { return argv }
        return []
    }
}

public struct FileState: Hashable, Sendable {
    public enum Kind: String, Sendable { case file, directory, link, other }

    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (e.g. 0o755).
    public var mode: UInt32
    public var owner: String
    public var group: String
    public var size: Int
    /// Seconds since the epoch, with fractions.
    public var modified: Double
    public var linkTarget: String?
    /// Present when the content was asked for and the path is a regular file.
    public var content: [UInt8]?
    /// Hard links to it (a change to one name's attributes shows through the others).
    public var links: Int

    public init(kind: Kind, mode: UInt32, owner: String, group: String, size: Int = 0,
                modified: Double = 0, linkTarget: String? = nil, content: [UInt8]? = nil, links: Int = 1) {
        self.kind = kind
        self.mode = mode
        self.owner = owner
        self.group = group
        self.size = size
        self.modified = modified
        self.linkTarget = linkTarget
        self.content = content
        self.links = links
    }
}

/// Where an observed path really is on the host, for the engine's cache (which observations a
/// change can affect): transports report it beside each observed path.
public struct PathLocation: Hashable, Sendable {
    /// The path with every link in its folders resolved and its own name kept: what `lstat` looks at.
    public var entry: String
    /// For `.target`: where the path leads, its own links followed too; nil when unknown.
    public var resolved: String?

    public init(entry: String, resolved: String? = nil) {
        self.entry = entry
        self.resolved = resolved
    }
}

public struct CommandOutput: Hashable, Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The answers to a module's observations.
public struct Observations: Sendable {
    public var files: [String: FileState] = [:]
    /// Paths that were looked at and do not exist.
    public var missing: Set<String> = []
    public var commands: [[String]: CommandOutput] = [:]
    /// Followed `stat`s; a path that was asked for and did not resolve is in `unresolved`.
    public var targets: [String: FileState] = [:]
    public var unresolved: Set<String> = []
    /// Where the observed paths are (see `PathLocation`); a path missing here is of unknown location.
    public var locations: [String: PathLocation] = [:]

    public init() {}

    /// The state of a path; nil when it does not exist. Asking for a path that was
    /// never observed is a module bug, so it traps in debug builds.
    public func file(_ path: String) -> FileState? {
        assert(files[path] != nil || missing.contains(path), "\(path) was not observed")
        return files[path]
    }

    public func command(_ argv: [String]) -> CommandOutput? { commands[argv] }

    /// What `path` leads to; nil when it does not resolve.
    public func target(_ path: String) -> FileState? {
        assert(targets[path] != nil || unresolved.contains(path), "the target of \(path) was not observed")
        return targets[path]
    }

    /// Newer answers win: a path now missing drops its old state, a path now present leaves `missing`.
    public mutating func merge(_ other: Observations) {
        files.merge(other.files) { $1 }
        missing.formUnion(other.missing)
        commands.merge(other.commands) { $1 }
        for path in other.files.keys { missing.remove(path) }
        for path in other.missing { files[path] = nil }
        targets.merge(other.targets) { $1 }
        unresolved.formUnion(other.unresolved)
        for path in other.targets.keys { unresolved.remove(path) }
        for path in other.unresolved { targets[path] = nil }
        locations.merge(other.locations) { $1 }
    }
}
