import Foundation

/// Reads playbooks, task files and roles into the model, checking their shape:
/// unknown keys and modules, one module per task, types of keywords. Every error
/// names the file, line and column and suggests the nearest valid name.
public struct PlaybookLoader {
    /// Canonical module or action name for what a task wrote (`ansible.builtin.copy` -> `copy`), nil if unknown.
    public var resolveModule: (String) -> String?
    /// All names a task may use as its module (for suggestions).
    public var moduleNames: [String]
    /// Extra folders searched for roles (`roles_path`), after `roles/` beside the playbook.
    public var rolesPath: [String]

    public init(resolveModule: @escaping (String) -> String?, moduleNames: [String], rolesPath: [String] = []) {
        self.resolveModule = resolveModule
        self.moduleNames = moduleNames
        self.rolesPath = rolesPath
    }

    static let playKeys: Set<String> = [
        "name", "hosts", "become", "become_user", "become_method", "vars", "vars_files", "gather_facts",
        "serial", "max_fail_percentage", "roles", "pre_tasks", "tasks", "post_tasks", "handlers", "tags",
        "connection", "remote_user", "environment", "any_errors_fatal", "strategy", "order", "check_mode",
        "no_log", "ignore_errors", "collections", "module_defaults", "force_handlers", "port", "timeout",
    ]
    static let taskKeys: Set<String> = [
        "name", "when", "loop", "with_items", "with_list", "loop_control", "notify", "listen", "tags", "become",
        "become_user", "become_method", "register", "ignore_errors", "changed_when", "failed_when", "check_mode",
        "no_log", "vars", "environment", "args", "delegate_to", "run_once", "block", "rescue", "always",
        "include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks",
        "include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role",
        "retries", "delay", "until", "diff", "any_errors_fatal", "throttle", "timeout", "collections",
    ]

    // MARK: Playbooks

    public func loadPlaybook(_ path: String) throws -> Playbook {
        do {
            return try loadPlaybook((path as NSString).standardizingPath, chain: [])
        } catch let error as RecursionError {
            throw error.parseError
        }
    }

    func loadPlaybook(_ path: String, chain: [IncludeStep]) throws -> Playbook {
        let doc = try loadDocument(path)
        let location = doc.location(of: doc.root)
        guard let items = doc.root.items else {
            throw ParseError("a playbook is a list of plays (each starting with '- hosts: ...')", at: location)
        }
        var plays: [Play] = []
        for item in items {
            if let imported = item["import_playbook"] ?? item["ansible.builtin.import_playbook"] {
                plays += try importedPlaybook(imported, in: doc, chain: chain)
                continue
            }
            plays.append(try loadPlay(item, in: doc))
        }
        return Playbook(file: path, plays: plays)
    }

    func loadPlay(_ node: YAMLNode, in doc: LoadedFile) throws -> Play {
        let location = doc.location(of: node)
        guard let pairs = node.pairs else { throw ParseError("a play is a mapping with 'hosts:' and 'tasks:'", at: location) }
        try checkKeys(pairs, allowed: PlaybookLoader.playKeys, what: "play", in: doc)
        guard let hostsNode = node["hosts"] else { throw ParseError("this play has no 'hosts:' (which hosts it targets)", at: location) }
        let hosts: String
        if let list = hostsNode.items {
            hosts = list.map { $0.string ?? YAMLJSON.keyText($0) }.joined(separator: ",")
        } else {
            hosts = try scalarText(hostsNode, "hosts", in: doc)
        }
        var play = Play(
            name: try node["name"].map { try scalarText($0, "name", in: doc) } ?? hosts,
            hosts: hosts,
            become: try node["become"].map { try boolean($0, "become", in: doc) },
            becomeUser: try node["become_user"].map { try scalarText($0, "become_user", in: doc) },
            vars: try node["vars"].map { try mapping($0, "vars", in: doc) } ?? ValueDict(),
            varsFiles: try node["vars_files"].map { try varsFiles($0, in: doc) } ?? [],
            gatherFacts: try node["gather_facts"].map { try boolean($0, "gather_facts", in: doc) } ?? true,
            serial: node["serial"].map(Value.init),
            maxFailPercentage: try node["max_fail_percentage"].map { try number($0, "max_fail_percentage", in: doc) },
            tags: try node["tags"].map { try stringList($0, "tags", in: doc) } ?? [],
            tasks: [], handlers: [], roleDefaults: ValueDict(), roleVars: ValueDict(),
            location: location, directory: doc.directory)
        var common = TaskCommon(location: location, directory: doc.directory)
        common.tags = play.tags
        common.noLog = node["no_log"].map(Value.init)
        play.tasks += try node["pre_tasks"].map { try taskList($0, in: doc, common: common) } ?? []
        if let roles = node["roles"], roles.items == nil, !roles.isNull {
            throw ParseError("'roles' must be a list of role names", at: doc.location(of: roles))
        }
        for roleNode in node["roles"]?.items ?? [] {
            play.tasks += try loadRole(try roleRequest(roleNode, in: doc, inherited: common, directory: doc.directory))
        }
        play.tasks += try node["tasks"].map { try taskList($0, in: doc, common: common) } ?? []
        play.tasks += try node["post_tasks"].map { try taskList($0, in: doc, common: common) } ?? []
        play.exposeStaticRoles()
        play.handlers += try node["handlers"].map { try taskList($0, in: doc, common: common).flatMap(\.flattenedTasks) } ?? []
        return play
    }

    // MARK: Tasks

    func taskList(_ node: YAMLNode, in doc: LoadedFile, common: TaskCommon) throws -> [TaskItem] {
        if node.isNull { return [] }
        guard let items = node.items else {
            throw ParseError("expected a list of tasks (each starting with '- name: ...')", at: doc.location(of: node))
        }
        var result: [TaskItem] = []
        for item in items { result += try taskItems(item, in: doc, common: common) }
        return result
    }

    func taskItems(_ node: YAMLNode, in doc: LoadedFile, common inherited: TaskCommon) throws -> [TaskItem] {
        let location = doc.location(of: node)
        guard let pairs = node.pairs else {
            throw ParseError("a task is a mapping ('- name: ...' then one module), not \(YAMLResolver.display(node))", at: location)
        }
        var common = inherited
        common.location = location
        common.when = inherited.when + (node["when"].map { conditions($0) } ?? [])
        common.tags = inherited.tags + (try node["tags"].map { try stringList($0, "tags", in: doc) } ?? [])
        if let vars = node["vars"] { common.vars = inherited.vars.merging(try mapping(vars, "vars", in: doc)) }
        if let b = node["become"] { common.become = try boolean(b, "become", in: doc) }
        if let u = node["become_user"] { common.becomeUser = try scalarText(u, "become_user", in: doc) }
        if let v = node["ignore_errors"] { common.ignoreErrors = Value(v) }
        if let v = node["check_mode"] { common.checkMode = Value(v) }
        if let v = node["no_log"] { common.noLog = Value(v) }
        if let v = node["environment"] { common.environment = Value(v) }

        if let block = node["block"] {
            try checkKeys(pairs, allowed: PlaybookLoader.taskKeys, what: "block", in: doc)
            return [.block(Block(
                name: try node["name"].map { try scalarText($0, "name", in: doc) },
                tasks: try taskList(block, in: doc, common: common),
                rescue: try node["rescue"].map { try taskList($0, in: doc, common: common) } ?? [],
                always: try node["always"].map { try taskList($0, in: doc, common: common) } ?? [],
                common: common))]
        }
        for key in ["import_tasks", "include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_tasks"] {
            guard let fileNode = node[key] else { continue }
            try checkKeys(pairs, allowed: PlaybookLoader.taskKeys, what: "task", in: doc)
            return try taskFileItems(key, fileNode, node: node, in: doc, inherited: inherited, common: common)
        }
        for key in ["import_role", "include_role", "ansible.builtin.import_role", "ansible.builtin.include_role"] {
            guard let argsNode = node[key] else { continue }
            try checkKeys(pairs, allowed: PlaybookLoader.taskKeys, what: "task", in: doc)
            return try roleTask(key, argsNode, node: node, in: doc, inherited: inherited, common: common)
        }
        return [.task(try task(node, pairs: pairs, in: doc, common: common))]
    }

    func task(_ node: YAMLNode, pairs: [YAMLPair], in doc: LoadedFile, common: TaskCommon) throws -> Task {
        var moduleKey: YAMLPair?
        var canonical = ""
        for pair in pairs {
            guard let key = pair.key.string else {
                throw ParseError("task keys must be names", at: doc.location(of: pair.key))
            }
            if PlaybookLoader.isTaskKeyword(key) { continue }
            guard let resolved = resolveModule(key) else {
                let hint = Suggestion.hint(for: key, in: moduleNames + Array(PlaybookLoader.taskKeys))
                throw ParseError("'\(key)' is neither a module nor a task keyword\(hint)", at: doc.location(of: pair.key))
            }
            if let first = moduleKey?.key.string {
                throw ParseError("a task runs one module, but this one names '\(first)' and '\(key)'", at: doc.location(of: pair.key))
            }
            moduleKey = pair
            canonical = resolved
        }
        guard let module = moduleKey, let written = module.key.string else {
            throw ParseError("this task names no module (such as 'ansible.builtin.copy:')", at: doc.location(of: node))
        }
        var arguments = Value(module.value)
        var locations: [String: SourceLocation] = [:]
        for pair in module.value.pairs ?? [] {
            if let k = pair.key.string { locations[k] = doc.location(of: pair.key) }
        }
        if let extra = node["args"] {
            guard let more = extra.pairs else { throw ParseError("'args' must be a mapping", at: doc.location(of: extra)) }
            // A free-form string (`command: touch x`) joins args under Ansible's `_raw_params`.
            var merged: ValueDict
            switch arguments {
            case .dict(let base): merged = base
            case .string(let text): merged = ["_raw_params": .string(text)]
            default: merged = ValueDict()
            }
            for pair in more {
                let k = YAMLJSON.keyText(pair.key)
                merged[k] = Value(pair.value)
                locations[k] = doc.location(of: pair.key)
            }
            arguments = .dict(merged)
        }
        switch arguments {
        case .dict, .string, .null: break
        default:
            throw ParseError("the arguments of '\(written)' must be a mapping (key: value lines) or a command string", at: doc.location(of: module.value))
        }
        var task = Task(
            name: try node["name"].map { try scalarText($0, "name", in: doc) },
            module: canonical, moduleAsWritten: written, arguments: arguments, argumentLocations: locations,
            moduleLocation: doc.location(of: module.key), common: common,
            loop: nil, loopControl: try loopControl(node, in: doc),
            notify: try node["notify"].map { try stringList($0, "notify", in: doc) } ?? [],
            notifyLocation: node["notify"].map { doc.location(of: $0) },
            listen: try node["listen"].map { try stringList($0, "listen", in: doc) } ?? [],
            register: try node["register"].map { try identifier($0, "register", in: doc) },
            changedWhen: node["changed_when"].map(conditions),
            failedWhen: node["failed_when"].map(conditions),
            delegateTo: node["delegate_to"].map(Value.init),
            runOnce: try node["run_once"].map { try boolean($0, "run_once", in: doc) } ?? false)
        (task.loop, task.loopWith) = try loop(of: node, in: doc)
        return task
    }

    func loopControl(_ node: YAMLNode, in doc: LoadedFile) throws -> LoopControl {
        var control = LoopControl()
        guard let lc = node["loop_control"] else { return control }
        guard let pairs = lc.pairs else { throw ParseError("loop_control must be a mapping", at: doc.location(of: lc)) }
        try checkKeys(pairs, allowed: ["loop_var", "index_var", "label", "pause", "extended", "extended_allitems"], what: "loop_control", in: doc)
        if let v = lc["loop_var"] { control.loopVar = try identifier(v, "loop_var", in: doc) }
        if let v = lc["index_var"] { control.indexVar = try identifier(v, "index_var", in: doc) }
        if let v = lc["label"] { control.label = Value(v) }
        if let v = lc["extended"] { control.extended = Value(v) }
        if let v = lc["extended_allitems"] { control.extendedAllItems = Value(v) }
        if let v = lc["pause"] { control.pause = Value(v) }
        return control
    }

    func conditions(_ node: YAMLNode) -> [Value] {
        node.items?.map(Value.init) ?? [Value(node)]
    }

    // MARK: Files

    struct LoadedFile {
        var stream: YAMLStream
        var root: YAMLNode
        var directory: String
        func location(of node: YAMLNode) -> SourceLocation { stream.location(of: node) }
    }

    func loadDocument(_ path: String) throws -> LoadedFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError("cannot read \(path): \(isDirectory(path) ? "it is a directory" : "no such file")", at: SourceLocation(file: path, line: 1, column: 1))
        }
        let stream = try YAMLStream([UInt8](data), file: path)
        guard stream.documents.count <= 1 else {
            throw ParseError("expected one YAML document, found \(stream.documents.count)", at: stream.location(of: stream.documents[1]))
        }
        let root = stream.documents.first ?? YAMLNode(.null, mark: SourceMark(line: 1, column: 1))
        return LoadedFile(stream: stream, root: root, directory: (path as NSString).deletingLastPathComponent)
    }

    /// A path as Ansible resolves it: absolute, or relative to the role's folder, then the file's.
    func resolve(_ file: String, against directory: String, role: RoleContext? = nil, folder: String = "") -> String {
        if file.hasPrefix("/") { return file }
        if let role {
            let inRole = "\(role.path)/\(folder)/\(file)"
            if FileManager.default.fileExists(atPath: inRole) { return inRole }
        }
        return directory.isEmpty ? file : "\(directory)/\(file)"
    }

    func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    // MARK: Checked conversions

    func checkKeys(_ pairs: [YAMLPair], allowed: Set<String>, what: String, in doc: LoadedFile) throws {
        for pair in pairs {
            let key = YAMLJSON.keyText(pair.key)
            if allowed.contains(key) || (allowed == PlaybookLoader.taskKeys && PlaybookLoader.isTaskKeyword(key)) { continue }
            if what == "task" || what == "block", resolveModule(key) != nil { continue }
            throw ParseError("'\(key)' is not a \(what) keyword\(Suggestion.hint(for: key, in: Array(allowed)))", at: doc.location(of: pair.key))
        }
    }

    func scalarText(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> String {
        switch node.value {
        case .string(let s): return s
        case .int, .float, .bool: return YAMLJSON.keyText(node)
        default: throw ParseError("'\(key)' must be text, not a \(node.items != nil ? "list" : node.pairs != nil ? "mapping" : "null")", at: doc.location(of: node))
        }
    }

    func identifier(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> String {
        let text = try scalarText(node, key, in: doc)
        guard let first = text.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
              text.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }) else {
            throw ParseError("'\(key)' must be a variable name (letters, digits, '_'), not '\(text)'", at: doc.location(of: node))
        }
        return text
    }

    func boolean(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> Bool {
        guard let b = ModuleArguments.boolean(Value(node)) else {
            throw ParseError("'\(key)' must be yes/no or true/false", at: doc.location(of: node))
        }
        return b
    }

    func number(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> Double {
        switch node.value {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .string(let s): if let d = Double(s.trimmingSpaces) { return d }
        default: break
        }
        throw ParseError("'\(key)' must be a number", at: doc.location(of: node))
    }

    func mapping(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> ValueDict {
        if node.isNull { return ValueDict() }
        if key == "vars", node.items != nil {
            throw ParseError("'vars' must be a mapping of names to values; a list of mappings is refused by Ansible 2.19 too "
                + "(\"Vars in a Play must be specified as a dictionary\"): merge the list's entries into one mapping", at: doc.location(of: node))
        }
        guard node.pairs != nil, case .dict(let d) = Value(node) else {
            throw ParseError("'\(key)' must be a mapping of names to values", at: doc.location(of: node))
        }
        return d
    }

    func stringList(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> [String] {
        if let items = node.items { return try items.map { try scalarText($0, key, in: doc) } }
        let text = try scalarText(node, key, in: doc)
        return key == "tags" ? text.split(separator: ",").map { String($0).trimmingSpaces } : [text]
    }
}

extension TaskItem {
    /// Tasks of this item with blocks opened (handler lists are flat).
    var flattenedTasks: [Task] {
        switch self {
        case .task(let t): return [t]
        case .block(let b): return (b.tasks + b.rescue + b.always).flatMap(\.flattenedTasks)
        case .include: return []
        }
    }
}
