import Foundation

/// `provision apply|check|validate PLAYBOOK`.
struct PlaybookCommand {
    var name: String
    var options: ParsedOptions
    var registry: ModuleRegistry

    func run() throws -> Int32 {
        guard options.positionals.count == 1, let path = options.positionals.first else {
            throw UsageError(message: "'\(name)' takes one playbook file (see 'provision \(name) --help')")
        }
        let bundle = try options.value("--bundle").map { try OfflineBundle.open($0) { ProvisionCommand.printError($0) } }
        let playbookPath = bundle?.playbook(path) ?? URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: playbookPath) else {
            throw UsageError(message: "no playbook at \(path)")
        }
        var run = RunOptions()
        run.checkMode = name == "check" || options.flag("--check")
        run.diff = name == "check" || options.flag("--diff")
        run.limit = options.value("--limit")
        run.tags = Set(options.all("--tags").flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } })
        run.skipTags = Set(options.all("--skip-tags").flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } })
        run.verbosity = options.count("--verbose")
        if let forks = options.value("--forks") {
            guard let n = Int(forks), n > 0 else { throw UsageError(message: "--forks needs a positive number, not '\(forks)'") }
            run.forks = n
        }
        if let timeout = options.value("--lock-timeout") {
            guard let seconds = Int(timeout), seconds >= 0 else {
                throw UsageError(message: "--lock-timeout needs a number of seconds (0 or more), not '\(timeout)'")
            }
            run.lockTimeout = seconds
        }
        for extra in options.all("--extra-vars") { run.extraVars = run.extraVars.merging(try ExtraVars.parse(extra)) }
        let config = try AnsibleConfig.load()
        if options.value("--forks") == nil, let forks = config.forks { run.forks = forks }

        let playbookDirectory = (playbookPath as NSString).deletingLastPathComponent
        let loader = PlaybookLoader(resolveModule: registry.resolve, moduleNames: registry.names, rolesPath: config.rolesPath ?? [])
        var (playbook, loadProblems) = try loader.loadPlaybookCollecting(playbookPath)
        if let bundle {
            playbook = try bundle.prepare(playbook, extraVars: run.extraVars)
            run.offline = true
            run.offlinePackages = bundle.packages
            if run.checkMode { run.rootNeeds = RootNeed.invokingUser() }
            run.bundle = bundle
        }
        let inventorySources = inventoryPaths(playbookDirectory: playbookDirectory, config: config)
        let inventory = try Inventory(sources: inventorySources, playbookDirectory: playbookDirectory)
        let reporter: RunReporter = options.flag("--json") ? JSONReporter() : TextReporter(verbosity: run.verbosity, showDiff: run.diff)
        for warning in inventory.warnings { reporter.warning(warning.description) }
        for warning in config.warnings { reporter.warning(warning) }
        if run.verbosity > 0 {
            for setting in config.ignored { reporter.warning("ansible.cfg setting not used by provision: \(setting)") }
        }
        let runner = PlaybookRunner(playbook: playbook, inventory: inventory, registry: registry, loader: loader,
                                    options: run, reporter: reporter, config: config)
        runner.inventoryReloader = { try Inventory(sources: inventorySources, playbookDirectory: playbookDirectory) }
        // Every problem of the playbook at once, the loader's and the checks' together.
        try runner.validate(adding: loadProblems)
        if name == "validate" {
            print("\(path): \(playbook.plays.count) play(s), \(playbook.plays.reduce(0) { $0 + $1.tasks.count }) task(s): valid")
            return 0
        }
        return try runner.run()
    }

    /// `-i` as given, else ansible.cfg's `inventory`, else `inventory/hosts.yml` beside the playbook's folder.
    func inventoryPaths(playbookDirectory: String, config: AnsibleConfig) -> [String] {
        let given = options.all("--inventory")
        if !given.isEmpty { return given }
        if let configured = config.inventory, !configured.isEmpty { return configured }
        let parent = (playbookDirectory as NSString).deletingLastPathComponent
        for candidate in ["\(parent)/inventory/hosts.yml", "\(playbookDirectory)/inventory/hosts.yml"] where FileManager.default.fileExists(atPath: candidate) {
            return [candidate]
        }
        return []
    }
}

/// `-e key=value ...`, `-e @vars.yml` and `-e '{"json": 1}'`, as Ansible reads them.
enum ExtraVars {
    static func parse(_ text: String) throws -> ValueDict {
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError(message: "-e @\(path): no such file") }
            let stream = try YAMLStream([UInt8](data), file: path)
            guard let root = stream.documents.first, case .dict(let vars) = Value(root) else {
                throw UsageError(message: "-e @\(path): expected a mapping of names to values")
            }
            return vars
        }
        let trimmed = text.trimmingSpaces
        if trimmed.hasPrefix("{") {
            let stream = try YAMLStream(trimmed, file: "-e")
            guard let root = stream.documents.first, case .dict(let vars) = Value(root) else {
                throw UsageError(message: "-e: expected a JSON object")
            }
            return vars
        }
        var vars = ValueDict()
        for pair in shellWords(trimmed) {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw UsageError(message: "-e: expected key=value, not '\(pair)'")
            }
            vars[String(pair[..<eq])] = .string(String(pair[pair.index(after: eq)...]))
        }
        return vars
    }

    /// Splits on spaces outside quotes.
    static func shellWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                inWord = true
            } else if ch == " " {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
