import Provisioner

/// Ansible's `shell`: like `command`, but the text goes to `/bin/sh -c` (or
/// `executable -c`), so pipes, redirections and expansion work.
struct ShellModule: Module {
    static let name = "shell"
    static let summary = "Run a command through the shell (idempotent only through creates/removes)"
    static let freeFormArgument: String? = "cmd"
    static let supportsCheckMode = false
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("cmd", .string, doc: "the shell command line"),
        ArgumentSpec("executable", .path, doc: "shell to run it with instead of /bin/sh"),
    ] + CommandGuards.specs

    let script: String
    let executable: String
    let guards: CommandGuards

    init(_ arguments: ModuleArguments) throws {
        guard let cmd = arguments.string("cmd"), !cmd.allSatisfy(\.isWhitespace) else {
            throw ModuleError("no command given", argument: "cmd")
        }
        script = cmd
        executable = arguments.string("executable") ?? "/bin/sh"
        guards = CommandGuards(arguments)
    }

    var argv: [String] { [executable, "-c", script] }

    func observations(_ context: ModuleContext) -> [Observation] { guards.observations() }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guards.guarded(observed, argv: argv, cmd: .string(script)) ?? guards.run(argv, summary: "run \(script)", cmd: .string(script))
    }
}
