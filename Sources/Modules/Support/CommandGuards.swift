import Provisioner

/// What `command` and `shell` share: the only idempotence they have (`creates`,
/// `removes`), the working directory and stdin.
struct CommandGuards: Sendable {
    static let specs: [ArgumentSpec] = [
        ArgumentSpec("chdir", .path, doc: "directory to run in"),
        ArgumentSpec("creates", .path, doc: "a path (or glob): when it exists, the command is not run"),
        ArgumentSpec("removes", .path, doc: "a path (or glob): when it does not exist, the command is not run"),
        ArgumentSpec("stdin", .string, doc: "text fed to the command's standard input"),
        ArgumentSpec("stdin_add_newline", .bool, default: true, doc: "end stdin with a newline"),
        ArgumentSpec("strip_empty_ends", .bool, default: true, doc: "drop trailing newlines from stdout/stderr (always done here)"),
    ]

    var chdir: String?
    var creates: String?
    var removes: String?
    var stdin: [UInt8]?

    init(_ arguments: ModuleArguments) {
        chdir = arguments.string("chdir")
        // Relative paths are relative to chdir, since Ansible changes directory first.
        creates = arguments.string("creates").map { CommandGuards.resolve($0, in: arguments.string("chdir")) }
        removes = arguments.string("removes").map { CommandGuards.resolve($0, in: arguments.string("chdir")) }
        stdin = arguments.string("stdin").map { Array(($0 + (arguments.bool("stdin_add_newline") ? "\n" : "")).utf8) }
    }

    static func resolve(_ path: String, in directory: String?) -> String {
        guard let directory, !path.hasPrefix("/") else { return path }
        return PathText.join(directory, path)
    }

    static func isGlob(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    static func probe(_ path: String) -> Observation {
        isGlob(path) ? HostProbes.glob(path) : .file(path: path, content: false)
    }

    func observations() -> [Observation] {
        [creates, removes].compactMap { $0 }.map(CommandGuards.probe)
    }

    static func exists(_ path: String, _ observed: Observations) -> Bool {
        isGlob(path) ? observed.command(HostProbes.glob(path).argv)?.status == 0 : observed.file(path) != nil
    }

    /// Ansible reports a guarded command that did not run as ok (not skipped), with these fields.
    /// `cmd` in the result: the argv list (command), or the script as text (shell, as Ansible gives it).
    func guarded(_ observed: Observations, argv: [String], cmd: Value? = nil) -> Plan? {
        var message: String?, stdout = ""
        if let creates, CommandGuards.exists(creates, observed) {
            message = "Did not run command since '\(creates)' exists"
            stdout = "skipped, since \(creates) exists"
        } else if let removes, !CommandGuards.exists(removes, observed) {
            message = "Did not run command since '\(removes)' does not exist"
            stdout = "skipped, since \(removes) does not exist"
        }
        guard let message else { return nil }
        return Plan(result: ValueDict([("msg", .string(message)), ("stdout", .string(stdout)), ("stdout_lines", .list([.string(stdout)])),
                                       ("stderr", ""), ("rc", 0), ("cmd", cmd ?? .list(argv.map(Value.string)))]))
    }

    /// The one change: run it.
    func run(_ argv: [String], summary: String, cmd: Value? = nil) -> Plan {
        Plan(changes: [Change(summary, actions: [.run(Command(argv, stdin: stdin, directory: chdir))])],
             result: ValueDict([("cmd", cmd ?? .list(argv.map(Value.string)))]))
    }
}
