/// The closed set of primitive actions that every transport implements. Modules
/// return these as data; quoting and execution happen once, in the transport.
public enum Action: Hashable, Sendable {
    /// Temp file beside the target, fsync, mode/owner set, rename. `backup` keeps the old file.
    case writeFile(path: String, content: [UInt8], attributes: FileAttributes, backup: Bool)
    /// Removes a file, link or whole directory tree.
    case remove(path: String)
    /// Creates a directory and any missing parents (parents get the same attributes).
    case makeDirectory(path: String, attributes: FileAttributes)
    /// chmod/chown on an existing path (of a link itself when it is one).
    case setAttributes(path: String, attributes: FileAttributes)
    /// Sets access and modification times to now, creating nothing.
    case touch(path: String)
    /// Replaces `path` with a symbolic link to `target`.
    case symlink(path: String, target: String)
    /// Runs a program (no shell unless argv asks for one).
    case run(Command)

    public var summary: String {
        switch self {
        case .writeFile(let path, let content, _, _): return "write \(path) (\(content.count) bytes)"
        case .remove(let path): return "remove \(path)"
        case .makeDirectory(let path, _): return "mkdir \(path)"
        case .setAttributes(let path, let a): return "set \(a) on \(path)"
        case .touch(let path): return "touch \(path)"
        case .symlink(let path, let target): return "link \(path) -> \(target)"
        case .run(let command): return command.label ?? command.argv.joined(separator: " ")
        }
    }
}

public struct FileAttributes: Hashable, Sendable, CustomStringConvertible {
    public var mode: UInt32?
    public var owner: String?
    public var group: String?

    public init(mode: UInt32? = nil, owner: String? = nil, group: String? = nil) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    public var isEmpty: Bool { mode == nil && owner == nil && group == nil }

    public var description: String {
        [mode.map { "mode 0" + String($0, radix: 8) }, owner.map { "owner \($0)" }, group.map { "group \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }
}

public struct Command: Hashable, Sendable {
    public var argv: [String]
    public var environment: [String: String]
    public var stdin: [UInt8]?
    public var directory: String?
    /// What `-v` shows instead of the argv, for commands wrapped in a constant helper script.
    public var label: String?

    public init(_ argv: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, directory: String? = nil,
                label: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.stdin = stdin
        self.directory = directory
        self.label = label
    }
}

/// What applying an action gave: commands report their output.
public struct ActionResult: Sendable {
    public var output: CommandOutput?

    public init(output: CommandOutput? = nil) { self.output = output }
}
