import Foundation

/// `provision`'s commands. The executable only calls `ProvisionCommand.main`.
public enum ProvisionCommand {
    public static let version = "0.1.0"

    static let runOptions: [OptionSpec] = [
        OptionSpec(names: ["-i", "--inventory"], value: "INVENTORY", help: "inventory file or folder (default: inventory/hosts.yml beside the playbook's folder)", repeatable: true),
        OptionSpec(names: ["-C", "--check"], help: "dry run: observe and plan, change nothing"),
        OptionSpec(names: ["-D", "--diff"], help: "show unified diffs of what changes (or would change)"),
        OptionSpec(names: ["-l", "--limit"], value: "PATTERN", help: "only hosts matching PATTERN (host, group, a:b, !x, &y)"),
        OptionSpec(names: ["-t", "--tags"], value: "T,..", help: "only tasks with these tags", repeatable: true),
        OptionSpec(names: ["--skip-tags"], value: "T,..", help: "skip tasks with these tags", repeatable: true),
        OptionSpec(names: ["-e", "--extra-vars"], value: "k=v|@file", help: "extra variables (highest precedence)", repeatable: true),
        OptionSpec(names: ["-f", "--forks"], value: "N", help: "hosts in parallel (default 50)"),
        OptionSpec(names: ["--lock-timeout"], value: "SECONDS", help: "wait this long for another apply on the same host (default 60)"),
        OptionSpec(names: ["--json"], help: "print one JSON document and nothing else on stdout"),
        OptionSpec(names: ["--bundle"], value: "DIR", help: "offline: verify the bundle DIR, take downloads from it, reach no network (see 'provision bundle')"),
        OptionSpec(names: ["-v", "--verbose"], help: "show commands run and per-change summaries (-vv for more)"),
        OptionSpec(names: ["-h", "--help"], help: "this help"),
    ]

    static let commands: [CommandSpec] = [
        CommandSpec(name: "apply", synopsis: "apply PLAYBOOK [options]", summary: "Converge the hosts of PLAYBOOK.", options: runOptions),
        CommandSpec(name: "check", synopsis: "check PLAYBOOK [options]", summary: "Same as apply --check --diff: show what would change, change nothing.", options: runOptions),
        CommandSpec(name: "validate", synopsis: "validate PLAYBOOK [-i INVENTORY]", summary: "Parse and type-check the playbook and inventory; contact no host.",
                    options: runOptions.filter { ["-i", "-e", "-h"].contains($0.names[0]) }),
        CommandSpec(name: "facts", synopsis: "facts [HOST | --local] [-i INVENTORY]", summary: "Print the facts the engine gathers, as JSON.",
                    options: [OptionSpec(names: ["--local"], help: "this machine"), runOptions[0], runOptions.last].compactMap { $0 }),
        CommandSpec(name: "inventory", synopsis: "inventory [-i INVENTORY] --list | --graph", summary: "Show the inventory as Ansible's ansible-inventory does.",
                    options: [runOptions[0], OptionSpec(names: ["--list"], help: "hosts, groups and variables as JSON"),
                              OptionSpec(names: ["--graph"], help: "the group tree"), runOptions.last].compactMap { $0 }),
        CommandSpec(name: "doc", synopsis: "doc [MODULE]", summary: "List the modules, or describe one module's arguments (from its declaration).",
                    options: [runOptions.last].compactMap { $0 }),
        BundleCommand.spec,
        CommandSpec(name: "debug", synopsis: "debug yaml|toml [--quiet]", summary: "Read YAML or TOML on stdin and print it as JSON (drives the conformance suites).",
                    options: [OptionSpec(names: ["--quiet"], help: "only check; the exit status says whether the input is valid"), runOptions.last].compactMap { $0 }),
        composeSpec,
    ]

    static var usage: String {
        var lines = ["usage: provision COMMAND [ARGS]", "", "commands:"]
        for c in commands { lines.append("  " + c.name.padding(toLength: 11, withPad: " ", startingAt: 0) + c.summary) }
        lines += ["", "  --version  print the version", "  --help     this text", "", "'provision COMMAND --help' describes a command."]
        return lines.joined(separator: "\n")
    }

    /// Runs one command line; returns the process exit status (Ansible's codes).
    public static func main(_ arguments: [String], modules: [any Module.Type], composeConverter: ComposeConverter? = nil) -> Int32 {
        guard let name = arguments.first else {
            printError(usage)
            return 1
        }
        switch name {
        case "--version", "version":
            print("provision \(version)")
            return 0
        case "--help", "-h", "help":
            print(usage)
            return 0
        default:
            break
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            printError("provision: unknown command '\(name)'\(Suggestion.hint(for: name, in: commands.map(\.name))) (see 'provision --help')")
            return 1
        }
        do {
            let options = try command.parse(Array(arguments.dropFirst()))
            if options.flag("--help") {
                print(command.help)
                return 0
            }
            let registry = ModuleRegistry(modules)
            switch name {
            case "apply", "check", "validate": return try PlaybookCommand(name: name, options: options, registry: registry).run()
            case "facts": return try facts(options)
            case "inventory": return try inventoryCommand(options)
            case "doc": return try doc(options, modules: modules)
            case "compose": return try compose(options, converter: composeConverter)
            case "bundle": return try BundleCommand(options: options, registry: registry).run()
            default: return try debug(options)
            }
        } catch let error as UsageError {
            printError("provision: \(error.message)")
            return 1
        } catch let error as ParseError {
            printError("provision: \(error)")
            return 1
        } catch let error as BundleError {
            printError("provision: \(error)")
            return 1
        } catch let error as PreflightError {
            printError("provision: \(error)")
            return 1
        } catch let error as Diagnostics {
            for message in error.messages { printError("provision: \(message)") }
            printError("provision: \(error.messages.count) problems found; nothing was changed")
            return 1
        } catch {
            printError("provision: unexpected error: \(error)")
            return 250
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func facts(_ options: ParsedOptions) throws -> Int32 {
        guard options.flag("--local") || options.positionals.isEmpty || options.positionals == ["localhost"] else {
            throw UsageError(message: "facts of remote hosts need the ssh transport; use 'provision facts --local'")
        }
        print(Value.dict(try Facts.gather("localhost", via: LocalTransport(), memory: nil)).json)
        return 0
    }

    static func inventoryCommand(_ options: ParsedOptions) throws -> Int32 {
        let inventory = try Inventory(sources: options.all("--inventory"))
        if options.flag("--graph") {
            print(inventory.graph())
        } else if options.flag("--list") {
            print(inventory.listJSONText())
        } else {
            throw UsageError(message: "say --list or --graph (see 'provision inventory --help')")
        }
        return 0
    }

    static func doc(_ options: ParsedOptions, modules: [any Module.Type]) throws -> Int32 {
        guard let name = options.positionals.first else {
            for module in modules.sorted(by: { $0.name < $1.name }) {
                print(module.name.padding(toLength: 16, withPad: " ", startingAt: 0) + module.summary)
            }
            return 0
        }
        let registry = ModuleRegistry(modules)
        guard let canonical = registry.resolve(name), let module = registry.types[canonical] else {
            throw UsageError(message: "no module '\(name)'\(Suggestion.hint(for: name, in: modules.map { $0.name }))")
        }
        print(ModuleDoc.text(module))
        return 0
    }

    static func debug(_ options: ParsedOptions) throws -> Int32 {
        guard options.positionals.count == 1, let kind = options.positionals.first, kind == "yaml" || kind == "toml" else {
            throw UsageError(message: "usage: provision debug yaml|toml [--quiet]  (reads stdin, writes JSON to stdout)")
        }
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        if options.flag("--quiet") {
            if kind == "yaml" { _ = try YAMLStream(input, file: "<stdin>") } else { _ = try TOMLTaggedJSON.render(input, file: "<stdin>") }
            return 0
        }
        let json = kind == "yaml" ? try YAMLJSON.render(input, file: "<stdin>") : try TOMLTaggedJSON.render(input, file: "<stdin>")
        FileHandle.standardOutput.write(Data(json.utf8))
        return 0
    }
}
