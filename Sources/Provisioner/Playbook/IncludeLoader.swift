import Foundation

/// `import_tasks`, `include_tasks` and `import_playbook`, with the chain of files that led to each
/// item: a file that imports itself (directly, mutually, through roles) is an error naming the chain,
/// where Ansible dies of a Python RecursionError.
extension PlaybookLoader {
    /// Includes may nest this deep (Ansible's Python stack gives out near 250); recursion that
    /// conditions end is fine below it.
    public static let maxIncludeDepth = 200

    /// Throws when entering `step` from `chain` recursion cannot end: the file is already being
    /// loaded and every step since then is static (an import, a role dependency, an include without
    /// `when` or loop). Recursion through a conditional include is left to run time (depth-limited).
    func checkRecursion(_ step: IncludeStep, chain: [IncludeStep]) throws {
        if let first = chain.firstIndex(where: { $0.file == step.file }) {
            let cycle = Array(chain[(first + 1)...]) + [step]
            let canEnd = cycle.contains { if case .include(conditional: true) = $0.kind { return true }; return false }
            if !canEnd { throw RecursionError(step: step, chain: chain, cycleStart: first) }
        }
        if chain.count >= PlaybookLoader.maxIncludeDepth {
            throw RecursionError(step: step, chain: chain, cycleStart: nil)
        }
    }

    /// A task file (for `import_tasks`/`include_tasks` and roles): a list of tasks. `step`, when
    /// given, is how it was reached; it joins the chain its items carry.
    public func loadTaskFile(_ path: String, common: TaskCommon, step: IncludeStep? = nil) throws -> [TaskItem] {
        var inner = common
        if let step {
            try checkRecursion(step, chain: common.includes)
            inner.includes.append(step)
        }
        let doc = try loadDocument(path)
        if doc.root.isNull { return [] }
        inner.directory = doc.directory
        return try taskList(doc.root, in: doc, common: inner)
    }

    /// `import_tasks: FILE` (loaded now) or `include_tasks: FILE` (loaded when reached; preloaded for
    /// `validate` when the name is static).
    func taskFileItems(_ key: String, _ fileNode: YAMLNode, node: YAMLNode, in doc: LoadedFile,
                       inherited: TaskCommon, common: TaskCommon) throws -> [TaskItem] {
        let file = try fileNode.string ?? fileNode["file"]?.string
            ?? { throw ParseError("\(key) takes a file name", at: doc.location(of: fileNode)) }()
        let path = (resolve(file, against: common.directory, role: common.role, folder: "tasks") as NSString).standardizingPath
        let location = doc.location(of: fileNode)
        if key.hasSuffix("import_tasks") {
            guard !Templar.containsTemplate(file) else {
                throw ParseError("import_tasks is static: its file name cannot use variables (use include_tasks)", at: location)
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ParseError("import_tasks: no file \(path)", at: location)
            }
            return try loadTaskFile(path, common: common, step: IncludeStep(location: location, file: path, kind: .importTasks))
        }
        // A templated name is resolved once rendered (it may render to an absolute path).
        var include = try self.include(Templar.containsTemplate(file) ? file : path, node: node, in: doc, inherited: inherited,
                                       common: common, apply: fileNode["apply"] ?? node["args"]?["apply"])
        if !Templar.containsTemplate(file) {
            let step = IncludeStep(location: common.location, file: path, kind: .include(conditional: include.isConditional))
            if common.includes.contains(where: { $0.file == path }) {
                try checkRecursion(step, chain: common.includes)
                include.preloaded = .recursive
            } else if FileManager.default.fileExists(atPath: path) {
                do {
                    include.preloaded = .loaded(try loadTaskFile(path, common: include.tasksCommon, step: step))
                } catch let error as ParseError {
                    include.preloaded = .failed(error)
                }
            } else {
                include.preloaded = .failed(ParseError("include_tasks: no file \(path)", at: location))
            }
        }
        return [.include(include)]
    }

    /// Keywords an include statement takes (Ansible refuses the others on includes: `apply:` gives them to the tasks).
    static let includeKeywords: Set<String> = ["name", "when", "tags", "vars", "loop", "loop_control", "ignore_errors", "no_log", "args", "collections"]

    /// An include statement: its own keywords (when, tags, loop) decide the include; the included
    /// tasks get the parent's keywords, the include's vars and `apply:`.
    func include(_ file: String, node: YAMLNode, in doc: LoadedFile, inherited: TaskCommon, common: TaskCommon,
                 apply: YAMLNode?) throws -> Include {
        for pair in node.pairs ?? [] {
            let key = YAMLJSON.keyText(pair.key)
            guard PlaybookLoader.taskKeys.contains(key), !PlaybookLoader.includeKeywords.contains(key),
                  !key.hasSuffix("include_tasks"), !key.hasSuffix("include_role") else { continue }
            throw ParseError("'\(key)' is not a keyword of includes (Ansible refuses it too); give it to the included tasks with apply: {\(key): ...}",
                             at: doc.location(of: pair.key))
        }
        var tasksCommon = inherited
        tasksCommon.location = common.location
        tasksCommon.vars = common.vars
        if let apply {
            guard let pairs = apply.pairs else { throw ParseError("'apply' takes a mapping of task keywords", at: doc.location(of: apply)) }
            let allowed: Set<String> = ["when", "tags", "vars", "become", "become_user", "ignore_errors", "check_mode", "no_log", "environment"]
            for pair in pairs where !allowed.contains(YAMLJSON.keyText(pair.key)) {
                throw ParseError("'\(YAMLJSON.keyText(pair.key))' in apply is not a keyword provision can give included tasks (it can: \(allowed.sorted().joined(separator: ", ")))",
                                 at: doc.location(of: pair.key))
            }
            try applyKeywords(of: apply, to: &tasksCommon, in: doc)
        }
        var include = Include(file: file, common: common, loop: nil, loopControl: try loopControl(node, in: doc), tasksCommon: tasksCommon)
        (include.loop, include.loopWith) = try loop(of: node, in: doc)
        return include
    }

    /// `import_playbook`, refusing a playbook that imports itself.
    func importedPlaybook(_ node: YAMLNode, in doc: LoadedFile, chain: [IncludeStep], root: String) throws -> [Play] {
        guard let file = node.string else { throw ParseError("import_playbook takes a file name", at: doc.location(of: node)) }
        guard !Templar.containsTemplate(file) else {
            throw ParseError("import_playbook is static: its file name cannot use variables", at: doc.location(of: node))
        }
        let path = (resolve(file, against: doc.directory) as NSString).standardizingPath
        let step = IncludeStep(location: doc.location(of: node), file: path, kind: .importPlaybook)
        // The playbook named on the command line is where every chain starts.
        if path == root { throw RecursionError(step: step, chain: chain, cycleStart: 0) }
        try checkRecursion(step, chain: chain)
        return try loadPlaybook(path, chain: chain + [step], root: root).plays
    }
}

/// Imports or includes that never end: the step that closes the loop and the chain before it.
public struct RecursionError: Error, CustomStringConvertible {
    public var step: IncludeStep
    public var chain: [IncludeStep]
    /// Where the loop starts in `chain`; nil when the chain is only too deep.
    public var cycleStart: Int?

    public var location: SourceLocation { step.location }

    public var message: String {
        let name = (step.file as NSString).lastPathComponent
        let steps = (chain + [step]).map { "\($0.location) \($0.verb) \(($0.file as NSString).lastPathComponent)" }
        guard let start = cycleStart else {
            return "recursion: includes nest \(PlaybookLoader.maxIncludeDepth) deep, the limit (a file that includes itself "
                + "without a condition that ends it?); the chain starts: " + steps.prefix(4).joined(separator: " -> ")
                + " -> ... -> " + steps.suffix(3).joined(separator: " -> ")
        }
        let loop = Array(steps[start...])
        if step.kind == .role {
            return "role dependency loop: '\(name)' depends on itself: " + loop.joined(separator: " -> ")
                + "; remove one of these dependencies"
        }
        if step.kind == .importPlaybook {
            return "recursion: \(name) imports itself as a playbook: " + loop.joined(separator: " -> ") + "; remove one of these imports"
        }
        return "recursion: \(name) \(step.verb) itself: " + loop.joined(separator: " -> ")
            + "; break the loop (or make it conditional with include_tasks and 'when')"
    }

    public var description: String { "\(location): \(message)" }

    /// As a load error (exit 1).
    public var parseError: ParseError { ParseError(message, at: location) }
}

extension IncludeStep {
    var verb: String {
        switch kind {
        case .importTasks: return "imports"
        case .importPlaybook: return "imports playbook"
        case .role: return "runs role"
        case .include: return "includes"
        }
    }
}
