import Provisioner

/// Ansible's `command`: run a program (no shell) unless `creates`/`removes` say it
/// already ran. A free-form string is split as Python's `shlex` splits it.
struct CommandModule: Module {
    static let name = "command"
    static let summary = "Run a command without a shell (idempotent only through creates/removes)"
    static let freeFormArgument: String? = "cmd"
    static let supportsCheckMode = false
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("cmd", .string, doc: "the command line, split like a shell would split words (no expansion)"),
        ArgumentSpec("argv", .list, doc: "the command as a list of arguments, instead of cmd"),
    ] + CommandGuards.specs

    let argv: [String]
    let guards: CommandGuards

    init(_ arguments: ModuleArguments) throws {
        let cmd = arguments.string("cmd")
        let list = arguments.strings("argv")
        switch (cmd, list) {
        case (nil, nil): throw ModuleError("one of the following is required: cmd, argv (or a free-form command)", argument: "cmd")
        case (_?, _?): throw ModuleError("parameters are mutually exclusive: cmd|argv", argument: "argv")
        case (let cmd?, nil): argv = try Shlex.split(cmd, argument: "cmd")
        case (nil, let list?): argv = list
        }
        guard !argv.isEmpty, !argv[0].isEmpty else { throw ModuleError("no command given", argument: "cmd") }
        guards = CommandGuards(arguments)
    }

    func observations(_ context: ModuleContext) -> [Observation] { guards.observations() }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guards.guarded(observed, argv: argv) ?? guards.run(argv, summary: "run \(argv.joined(separator: " "))")
    }
}
