import Foundation

/// One request to a session's shell: calls of the `RemoteShellLibrary` functions,
/// one per observation or action, each answering with one reply, in order.
struct RemoteShellScript {
    private(set) var text = ""
    /// How many replies the script will print before its end marker.
    private(set) var replies = 0

    /// lstat of `path` (and its bytes when `content` is true and it is a regular file).
    mutating func stat(_ path: String, content: Bool) throws {
        try call("pv_stat", [path, content ? "1" : "0"])
    }

    /// lstat of each path (stat through links with `follow`), one reply each, without content
    /// (few processes on the host).
    mutating func statAll(_ paths: [String], follow: Bool = false) throws {
        try call("pv_statall", [follow ? "L" : "P"] + paths, replies: paths.count)
    }

    /// The bytes of those of `paths` that are regular files, concatenated, as one reply.
    mutating func catAll(_ paths: [String]) throws {
        try call("pv_catall", paths)
    }

    /// Starts read-only probes in the background; `collectProbes` answers for them together as one reply
    /// (`@Q`): cheaper on the host than one `run` each. Started first, they run while the rest is read.
    mutating func startProbes(_ commands: [[String]]) throws {
        for (index, argv) in commands.enumerated() {
            guard !argv.isEmpty else { throw TransportError("empty command") }
            if let (script, arguments) = RemoteShellScript.inShell(argv) {
                text += "pv_runs \(index + 1) " + (try RemoteShell.quote([script] + arguments)) + "\n"
            } else {
                text += "pv_runq \(index + 1) " + (try RemoteShell.quote(argv)) + "\n"
            }
        }
    }

    /// The reply of the `count` probes `startProbes` started.
    mutating func collectProbes(_ count: Int) throws {
        guard count > 0 else { return }
        try call("pv_flush", [String(count)])
    }

    /// A `/bin/sh -c SCRIPT [NAME [ARGS...]]` probe the session's shell can run in a subshell of its own
    /// (`pv_runs`) rather than starting another sh (most of a probe's cost): the same shell, with the
    /// script's arguments. What differs there is `$$` (the session's) and `$0`: scripts naming either
    /// keep their own sh. The session's own names all begin with `pv_`.
    static func inShell(_ argv: [String]) -> (script: String, arguments: [String])? {
        guard argv.count >= 3, argv[0] == "/bin/sh", argv[1] == "-c", !namesItsShell(argv[2]) else { return nil }
        return (argv[2], Array(argv.dropFirst(4)))
    }

    /// Whether `script` has `$$`, `$0` or `${0`: a scan of its bytes (Foundation's `contains` copies every
    /// probe's script to UTF-16, on every run).
    static func namesItsShell(_ script: String) -> Bool {
        let dollar = UInt8(ascii: "$"), brace = UInt8(ascii: "{"), zero = UInt8(ascii: "0")
        var last: UInt8 = 0, beforeLast: UInt8 = 0
        for byte in script.utf8 {
            if last == dollar && (byte == dollar || byte == zero) { return true }
            if beforeLast == dollar && last == brace && byte == zero { return true }
            (beforeLast, last) = (last, byte)
        }
        return false
    }

    mutating func run(_ command: Command) throws {
        guard !command.argv.isEmpty else { throw TransportError("empty command") }
        var words = [command.stdin == nil ? "0" : "1", command.directory ?? "", String(command.environment.count)]
        for (name, value) in command.environment.sorted(by: { $0.key < $1.key }) {
            guard RemoteShell.isVariableName(name) else {
                throw TransportError("'\(name)' is not a valid environment variable name")
            }
            words.append("\(name)=\(value)")
        }
        try call("pv_run", words + command.argv, input: command.stdin)
    }

    mutating func perform(_ action: Action) throws {
        switch action {
        case .writeFile(let path, let content, let attributes, let backup):
            let directory = (path as NSString).deletingLastPathComponent
            let base = (path as NSString).lastPathComponent
            let folder = directory.isEmpty ? "." : directory
            // The host checks length and digest before it commits: a cut or altered transfer writes nothing.
            try call("pv_write", [path, "\(folder)/.\(base).provision-XXXXXX", folder, octal(attributes.mode),
                                  attributes.owner ?? "", attributes.group ?? "", backup ? "1" : "0",
                                  String(content.count), SHA256.hex(content)], input: content)
        case .remove(let path):
            try call("pv_rm", [path])
        case .makeDirectory(let path, let attributes):
            // Every folder from the top down; the function creates those from the first missing one.
            var chain: [String] = []
            var current = path
            while !current.isEmpty && current != "/" {
                chain.append(current)
                current = (current as NSString).deletingLastPathComponent
            }
            try call("pv_mkdir", [octal(attributes.mode), attributes.owner ?? "", attributes.group ?? "", path]
                + chain.reversed())
        case .setAttributes(let path, let attributes):
            try call("pv_setattrs", [path, octal(attributes.mode), attributes.owner ?? "", attributes.group ?? ""])
        case .touch(let path):
            try call("pv_touch", [path])
        case .symlink(let path, let target):
            try call("pv_link", [path, target])
        case .run(let command):
            try run(command)
        }
    }

    /// Adds the end marker the reader waits for (the whole reply has arrived) and makes the
    /// request one `{ ... }` group: the shell runs none of it before all of it has arrived.
    mutating func end(_ nonce: String) {
        text = "{\n" + text + "printf '@END %s\\n' '\(nonce)'\n}\n"
    }

    /// Where each path really is (`pv_locate`), as one blob reply; `follow` also resolves the path's own links.
    mutating func locate(_ paths: [(path: String, follow: Bool)]) throws {
        try call("pv_locate", paths.flatMap { [$0.follow ? "L" : "P", $0.path] })
    }

    /// Removes stale temp files of interrupted runs in `folders` (`pv_sweep`), as one blob reply.
    mutating func sweep(_ folders: [String]) throws {
        try call("pv_sweep", folders)
    }

    /// A function call with every argument quoted; `input` travels as a base64 here-document
    /// (its alphabet has no `_`, so the delimiter cannot occur in it).
    private mutating func call(_ function: String, _ arguments: [String], input: [UInt8]? = nil, replies: Int = 1) throws {
        text += function + " " + (try RemoteShell.quote(arguments))
        if let input {
            text += " <<'__PV_DATA__'\n"
            text += Data(input).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            text += "\n__PV_DATA__\n"
        } else {
            text += "\n"
        }
        self.replies += replies
    }

    private func octal(_ mode: UInt32?) -> String {
        mode.map { String($0, radix: 8) } ?? ""
    }
}
