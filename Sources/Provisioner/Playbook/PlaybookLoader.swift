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
    /// Where problems go while a playbook is read for validation (nil: the first one is thrown).
    var errorSink: LoadErrors?

    public init(resolveModule: @escaping (String) -> String?, moduleNames: [String], rolesPath: [String] = []) {
        self.resolveModule = resolveModule
        self.moduleNames = moduleNames
        self.rolesPath = rolesPath
    }

    static var playKeys: Set<String> { PlaybookKeywords.play }
    static var taskKeys: Set<String> { PlaybookKeywords.task }

    // MARK: Playbooks

    /// The playbook, or every problem found in it at once (`Diagnostics`; a lone `ParseError` as itself).
    public func loadPlaybook(_ path: String) throws -> Playbook {
        let (playbook, problems) = try loadPlaybookCollecting(path)
        try Diagnostics.throwIfAny(problems)
        return playbook
    }

    /// Loads as much of the playbook as it can, returning what it could not read beside it.
    public func loadPlaybookCollecting(_ path: String) throws -> (Playbook, [Error]) {
        var collecting = self
        let sink = LoadErrors()
        collecting.errorSink = sink
        do {
            let root = (path as NSString).standardizingPath
            let playbook = try collecting.loadPlaybook(root, chain: [], root: root)
            return (playbook, sink.errors)
        } catch let error as RecursionError {
            throw error.parseError
        }
    }

    /// Runs `body`; while validating, a problem in it is recorded and nil returned so that loading goes on.
    @discardableResult
    func collecting<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch {
            let problem = (error as? RecursionError)?.parseError ?? error
            guard let sink = errorSink, problem is ParseError || problem is ParseErrors else { throw error }
            sink.errors += ParseErrors.flatten(problem)
            return nil
        }
    }

    func loadPlaybook(_ path: String, chain: [IncludeStep], root: String) throws -> Playbook {
        let doc = try loadDocument(path)
        let location = doc.location(of: doc.root)
        guard let items = doc.root.items else {
            throw ParseError("a playbook is a list of plays (each starting with '- hosts: ...')", at: location)
        }
        var plays: [Play] = []
        for item in items {
            if let imported = item["import_playbook"] ?? item["ansible.builtin.import_playbook"] {
                plays += try collecting { try importedPlaybook(imported, in: doc, chain: chain, root: root) } ?? []
                continue
            }
            if let play = try collecting({ try loadPlay(item, in: doc) }) { plays.append(play) }
        }
        return Playbook(file: path, plays: plays)
    }

    func loadPlay(_ node: YAMLNode, in doc: LoadedFile) throws -> Play {
        let location = doc.location(of: node)
        guard let pairs = node.pairs else { throw ParseError("a play is a mapping with 'hosts:' and 'tasks:'", at: location) }
        var problems = keyProblems(pairs, allowed: PlaybookKeywords.play, what: "play", in: doc)
        guard let hostsNode = node["hosts"] else {
            problems.append(ParseError("this play has no 'hosts:' (which hosts it targets)", at: location))
            throw ParseErrors(problems)
        }
        let hosts: String
        if let list = hostsNode.items {
            hosts = list.map { $0.string ?? YAMLJSON.keyText($0) }.joined(separator: ",")
        } else {
            hosts = try scalarText(hostsNode, "hosts", in: doc)
        }
        func read<T>(_ fallback: T, _ body: () throws -> T) -> T {
            do { return try body() } catch {
                problems += ParseErrors.flatten(error)
                return fallback
            }
        }
        var common = read(TaskCommon(location: location, directory: doc.directory)) {
            try commonKeywords(node, in: doc, inherited: TaskCommon(location: location, directory: doc.directory))
        }
        common.when = []
        var play = Play(
            name: read(hosts) { try node["name"].map { try scalarText($0, "name", in: doc) } ?? hosts },
            hosts: hosts,
            become: common.become,
            becomeUser: common.becomeUser,
            vars: common.vars,
            varsFiles: read([]) { try node["vars_files"].map { try varsFiles($0, in: doc) } ?? [] },
            gatherFacts: read(true) { try node["gather_facts"].map { try boolean($0, "gather_facts", in: doc) } ?? true },
            serial: node["serial"].map(Value.init),
            maxFailPercentage: read(nil) { try node["max_fail_percentage"].map { try number($0, "max_fail_percentage", in: doc) } },
            tags: common.tags,
            connection: common.connection, remoteUser: common.remoteUser, port: common.port,
            common: common,
            tasks: [], handlers: [], roleDefaults: ValueDict(), roleVars: ValueDict(),
            location: location, directory: doc.directory)
        // Tasks inherit the play's keywords; its connection settings and vars reach them through the host.
        play.common.vars = ValueDict()
        play.common.become = nil
        play.common.becomeUser = nil
        play.common.connection = nil
        play.common.remoteUser = nil
        play.common.port = nil
        play.forceHandlers = read(false) { try node["force_handlers"].map { try boolean($0, "force_handlers", in: doc) } ?? false }
        if let order = node["order"] {
            play.order = read("inventory") {
                let text = try scalarText(order, "order", in: doc)
                let orders = ["inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle"]
                guard orders.contains(text) else {
                    throw ParseError("'order' must be one of \(orders.joined(separator: ", "))\(Suggestion.hint(for: text, in: orders))", at: doc.location(of: order))
                }
                return text
            }
        }
        if let strategy = node["strategy"], strategy.string != "linear" && strategy.string != "ansible.builtin.linear" {
            problems.append(ParseError("provision runs plays with Ansible's default 'linear' strategy only, not '\(YAMLJSON.keyText(strategy))'", at: doc.location(of: strategy)))
        }
        if let connection = play.connection, !["local", "ssh", "smart", "paramiko", "ansible.builtin.local", "ansible.builtin.ssh"].contains(connection) {
            problems.append(ParseError("provision reaches hosts with the 'local' or 'ssh' connection, not '\(connection)'", at: doc.location(of: node["connection"] ?? node)))
        }
        if let prompts = node["vars_prompt"] { play.prompts = read([]) { try promptNames(prompts, in: doc) } }
        // The play's own problems are noted; its tasks are still read for theirs.
        if !problems.isEmpty {
            guard let sink = errorSink else { throw ParseErrors(problems) }
            sink.errors += problems
        }
        common = play.common
        let flush = implicitFlush(at: location, directory: doc.directory)
        // Ansible runs notified handlers after each section: pre_tasks, roles and tasks, post_tasks.
        play.tasks += try collecting { try node["pre_tasks"].map { try taskList($0, in: doc, common: common) } ?? [] } ?? []
        play.tasks.append(flush)
        if let roles = node["roles"], roles.items == nil, !roles.isNull {
            throw ParseError("'roles' must be a list of role names", at: doc.location(of: roles))
        }
        for roleNode in node["roles"]?.items ?? [] {
            play.tasks += try collecting { try loadRole(try roleRequest(roleNode, in: doc, inherited: common, directory: doc.directory)) } ?? []
        }
        play.tasks += try collecting { try node["tasks"].map { try taskList($0, in: doc, common: common) } ?? [] } ?? []
        play.tasks.append(flush)
        play.tasks += try collecting { try node["post_tasks"].map { try taskList($0, in: doc, common: common) } ?? [] } ?? []
        play.tasks.append(flush)
        play.exposeStaticRoles()
        play.handlers += try collecting {
            try node["handlers"].map { try taskList($0, in: doc, common: common, handlers: true).flatMap(\.flattenedTasks) } ?? []
        } ?? []
        return play
    }

    /// `vars_prompt`: the names it would ask for, each with where it was written.
    func promptNames(_ node: YAMLNode, in doc: LoadedFile) throws -> [(name: String, location: SourceLocation)] {
        guard let items = node.items else { throw ParseError("'vars_prompt' must be a list of prompts ('- name: ...')", at: doc.location(of: node)) }
        return try items.map { item in
            guard let pairs = item.pairs, let name = item["name"] else {
                throw ParseError("a vars_prompt entry is a mapping with 'name:' and 'prompt:'", at: doc.location(of: item))
            }
            try throwIfAny(keyProblems(pairs, allowed: ["name", "prompt", "default", "private", "confirm", "encrypt", "salt", "salt_size", "unsafe"],
                                       what: "vars_prompt", in: doc))
            return (try identifier(name, "name", in: doc), doc.location(of: item))
        }
    }

    func implicitFlush(at location: SourceLocation, directory: String) -> TaskItem {
        var common = TaskCommon(location: location, directory: directory)
        common.tags = ["always"]
        var task = Task(name: nil, module: EngineAction.meta.rawValue, moduleAsWritten: "meta", arguments: "flush_handlers",
                        argumentLocations: [:], moduleLocation: location, common: common, loop: nil, loopControl: LoopControl(),
                        notify: [], notifyLocation: nil, listen: [], register: nil, changedWhen: nil, failedWhen: nil)
        task.implicit = true
        return .task(task)
    }

    // MARK: Tasks

    func taskList(_ node: YAMLNode, in doc: LoadedFile, common: TaskCommon, handlers: Bool = false) throws -> [TaskItem] {
        if node.isNull { return [] }
        guard let items = node.items else {
            throw ParseError("expected a list of tasks (each starting with '- name: ...')", at: doc.location(of: node))
        }
        var result: [TaskItem] = []
        for item in items {
            result += try collecting { try taskItems(item, in: doc, common: common, handlers: handlers) } ?? []
        }
        return result
    }

    func taskItems(_ node: YAMLNode, in doc: LoadedFile, common inherited: TaskCommon, handlers: Bool = false) throws -> [TaskItem] {
        let location = doc.location(of: node)
        guard let pairs = node.pairs else {
            throw ParseError("a task is a mapping ('- name: ...' then one module), not \(YAMLResolver.display(node))", at: location)
        }
        var base = inherited
        base.location = location
        if let block = node["block"] {
            var problems = keyProblems(pairs, allowed: PlaybookKeywords.block, what: "block", in: doc)
            let common: TaskCommon
            do {
                common = try commonKeywords(node, in: doc, inherited: base)
            } catch {
                throw ParseErrors(problems + ParseErrors.flatten(error))
            }
            let name = try? node["name"].map { try scalarText($0, "name", in: doc) }
            let tasks = try collecting { try taskList(block, in: doc, common: common, handlers: handlers) }
            let rescue = try collecting { try node["rescue"].map { try taskList($0, in: doc, common: common, handlers: handlers) } ?? [] }
            let always = try collecting { try node["always"].map { try taskList($0, in: doc, common: common, handlers: handlers) } ?? [] }
            if let rescueNode = node["rescue"], !rescueNode.isNull, rescueNode.items == nil {
                problems.append(ParseError("'rescue' must be a list of tasks", at: doc.location(of: rescueNode)))
            }
            try throwIfAny(problems)
            return [.block(Block(name: name ?? nil, tasks: tasks ?? [], rescue: rescue ?? [], always: always ?? [], common: common))]
        }
        let common = try commonKeywords(node, in: doc, inherited: base)
        for key in ["import_tasks", "include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_tasks"] {
            guard let fileNode = node[key] else { continue }
            try throwIfAny(keyProblems(pairs, allowed: PlaybookKeywords.task.union(PlaybookKeywords.loops(in: pairs)), what: "task", in: doc))
            return try taskFileItems(key, fileNode, node: node, in: doc, inherited: inherited, common: common)
        }
        for key in ["import_role", "include_role", "ansible.builtin.import_role", "ansible.builtin.include_role"] {
            guard let argsNode = node[key] else { continue }
            try throwIfAny(keyProblems(pairs, allowed: PlaybookKeywords.task.union(PlaybookKeywords.loops(in: pairs)), what: "task", in: doc))
            return try roleTask(key, argsNode, node: node, in: doc, inherited: inherited, common: common)
        }
        return [.task(try task(node, pairs: pairs, in: doc, common: common, handler: handlers))]
    }

    /// The keywords plays, blocks and tasks share, over what the enclosing item gave.
    func commonKeywords(_ node: YAMLNode, in doc: LoadedFile, inherited: TaskCommon) throws -> TaskCommon {
        var common = inherited
        var problems: [Error] = []
        func read(_ body: () throws -> Void) {
            do { try body() } catch { problems += ParseErrors.flatten(error) }
        }
        read { common.when = inherited.when + (node["when"].map { conditions($0) } ?? []) }
        read { common.tags = inherited.tags + (try node["tags"].map { try stringList($0, "tags", in: doc) } ?? []) }
        read { if let vars = node["vars"] { common.vars = inherited.vars.merging(try mapping(vars, "vars", in: doc)) } }
        read { if let b = node["become"] { common.become = try boolean(b, "become", in: doc) } }
        read { if let u = node["become_user"] { common.becomeUser = try scalarText(u, "become_user", in: doc) } }
        read {
            if let m = node["become_method"] {
                let method = try scalarText(m, "become_method", in: doc)
                guard method == "sudo" || method == "ansible.builtin.sudo" || Templar.containsTemplate(method) else {
                    throw ParseError("provision becomes other users with sudo only, not '\(method)' (become_method)", at: doc.location(of: m))
                }
                common.becomeMethod = method
            }
        }
        read { if let v = node["ignore_errors"] { common.ignoreErrors = Value(v) } }
        read { if let v = node["ignore_unreachable"] { common.ignoreUnreachable = Value(v) } }
        read { if let v = node["check_mode"] { common.checkMode = Value(v) } }
        read { if let v = node["no_log"] { common.noLog = Value(v) } }
        read { if let v = node["diff"] { common.diff = Value(v) } }
        read { if let v = node["environment"] { common.environment = inherited.environment + [try environmentValue(v, in: doc)] } }
        read {
            if let v = node["module_defaults"] {
                guard v.pairs != nil || v.items != nil else { throw ParseError("'module_defaults' must be a mapping of module names to arguments", at: doc.location(of: v)) }
                common.moduleDefaults = inherited.moduleDefaults + [Value(v)]
            }
        }
        read { if let v = node["collections"] { common.collections = try stringList(v, "collections", in: doc) + inherited.collections } }
        read { if let v = node["any_errors_fatal"] { common.anyErrorsFatal = try boolean(v, "any_errors_fatal", in: doc) } }
        read { if let v = node["run_once"] { common.runOnce = Value(v) } }
        read { if let v = node["throttle"] { common.throttle = try positiveOrTemplate(v, "throttle", in: doc) } }
        read { if let v = node["delegate_to"] { common.delegateTo = Value(v) } }
        read { if let v = node["connection"] { common.connection = try scalarText(v, "connection", in: doc) } }
        read { if let v = node["remote_user"] { common.remoteUser = try scalarText(v, "remote_user", in: doc) } }
        read {
            if let v = node["port"] {
                guard case .int(let port) = v.value, (1...65535).contains(port) else {
                    throw ParseError("'port' must be a TCP port (1-65535), not \(YAMLJSON.keyText(v))", at: doc.location(of: v))
                }
                common.port = port
            }
        }
        read { if let v = node["notify"] { common.notify = try stringList(v, "notify", in: doc) } }
        try throwIfAny(problems)
        return common
    }

    /// `environment:` is a mapping, a list of mappings (merged in order) or a template giving one.
    func environmentValue(_ node: YAMLNode, in doc: LoadedFile) throws -> Value {
        let value = Value(node)
        switch value {
        case .dict, .null: return value
        case .string(let s) where Templar.containsTemplate(s): return value
        case .list(let items) where items.allSatisfy({ $0.dict != nil || $0.string.map(Templar.containsTemplate) == true }): return value
        default:
            throw ParseError("'environment' must be a mapping of variable names to values (or a list of them)", at: doc.location(of: node))
        }
    }

    func positiveOrTemplate(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> Value {
        switch node.value {
        case .int(let n) where n >= 0: return .int(n)
        case .string(let s) where Templar.containsTemplate(s): return .string(s)
        default: throw ParseError("'\(key)' must be a whole number", at: doc.location(of: node))
        }
    }

    func task(_ node: YAMLNode, pairs: [YAMLPair], in doc: LoadedFile, common: TaskCommon, handler: Bool) throws -> Task {
        var problems: [Error] = []
        var moduleKey: YAMLPair?
        var canonical = ""
        let allowed = handler ? PlaybookKeywords.handler : PlaybookKeywords.task
        for pair in pairs {
            guard let key = pair.key.string else {
                problems.append(ParseError("task keys must be names", at: doc.location(of: pair.key)))
                continue
            }
            if allowed.contains(key) || PlaybookLoader.loopLookup(key) != nil { continue }
            guard let resolved = resolveModule(key) else {
                problems.append(ParseError(unknownKeyMessage(key, what: handler ? "handler" : "task", collections: common.collections), at: doc.location(of: pair.key)))
                continue
            }
            if let first = moduleKey?.key.string {
                problems.append(ParseError("a task runs one module, but this one names '\(first)' and '\(key)'", at: doc.location(of: pair.key)))
                continue
            }
            moduleKey = pair
            canonical = resolved
        }
        var delegated = common
        var written = moduleKey?.key.string ?? ""
        var moduleLocation = moduleKey.map { doc.location(of: $0.key) } ?? doc.location(of: node)
        var arguments = moduleKey.map { Value($0.value) } ?? .null
        var locations: [String: SourceLocation] = [:]
        for pair in moduleKey?.value.pairs ?? [] {
            if let k = pair.key.string { locations[k] = doc.location(of: pair.key) }
        }
        // `local_action: MODULE ARGS` / `action: MODULE ARGS`: the module named inside the value.
        for key in ["local_action", "action"] {
            guard let actionNode = node[key] else { continue }
            if let first = moduleKey?.key.string ?? (key == "action" && node["local_action"] != nil ? "local_action" : nil) {
                problems.append(ParseError("a task runs one module, but this one names '\(first)' and '\(key)'", at: doc.location(of: actionNode)))
                break
            }
            do {
                let inner = try actionModule(actionNode, key: key, in: doc, collections: common.collections)
                (written, canonical, arguments) = (inner.written, inner.canonical, inner.arguments)
                moduleLocation = doc.location(of: actionNode)
                for (k, location) in inner.locations { locations[k] = location }
                if key == "local_action" {
                    if node["delegate_to"] != nil {
                        problems.append(ParseError("'local_action' already delegates to localhost: remove 'delegate_to'", at: doc.location(of: node["delegate_to"] ?? node)))
                    }
                    delegated.delegateTo = "localhost"
                }
            } catch {
                problems += ParseErrors.flatten(error)
            }
        }
        if written.isEmpty && problems.isEmpty {
            problems.append(ParseError("this task names no module (such as 'ansible.builtin.copy:')", at: doc.location(of: node)))
        }
        if let extra = node["args"] {
            if let more = extra.pairs {
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
            } else {
                problems.append(ParseError("'args' must be a mapping", at: doc.location(of: extra)))
            }
        }
        switch arguments {
        case .dict, .string, .null: break
        default:
            problems.append(ParseError("the arguments of '\(written)' must be a mapping (key: value lines) or a command string", at: moduleLocation))
        }
        if canonical == EngineAction.meta.rawValue, problems.isEmpty {
            do { try MetaAction.check(arguments, task: node, at: moduleLocation, in: doc) } catch { problems += ParseErrors.flatten(error) }
        }
        var task: Task?
        do {
            task = Task(
                name: try node["name"].map { try scalarText($0, "name", in: doc) },
                module: canonical, moduleAsWritten: written, arguments: arguments, argumentLocations: locations,
                moduleLocation: moduleLocation, common: delegated,
                loop: nil, loopControl: try loopControl(node, in: doc),
                notify: try node["notify"].map { try stringList($0, "notify", in: doc) } ?? common.notify ?? [],
                notifyLocation: node["notify"].map { doc.location(of: $0) },
                listen: try node["listen"].map { try stringList($0, "listen", in: doc) } ?? [],
                register: try node["register"].map { try identifier($0, "register", in: doc) },
                changedWhen: node["changed_when"].map(conditions),
                failedWhen: node["failed_when"].map(conditions))
            if task != nil {
                let (loop, with) = try self.loop(of: node, in: doc)
                task?.loop = loop
                task?.loopWith = with
                task?.asynchronous = try asyncSettings(node, in: doc)
            }
            task?.until = node["until"].map(conditions)
            task?.retries = try node["retries"].map { try integerOrTemplate($0, "retries", in: doc) }
            task?.delay = try node["delay"].map { try integerOrTemplate($0, "delay", in: doc) }
        } catch {
            problems += ParseErrors.flatten(error)
        }
        try throwIfAny(problems)
        guard let task else { throw ParseError("this task could not be read", at: doc.location(of: node)) }
        return task
    }

    /// The module inside `local_action:`/`action:`: `copy src=a dest=b`, or a mapping with `module:`.
    func actionModule(_ node: YAMLNode, key: String, in doc: LoadedFile, collections: [String])
        throws -> (written: String, canonical: String, arguments: Value, locations: [String: SourceLocation]) {
        var written: String
        var arguments: Value
        var locations: [String: SourceLocation] = [:]
        if let text = node.string {
            let trimmed = text.trimmingSpaces
            let end = trimmed.firstIndex(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) ?? trimmed.endIndex
            written = String(trimmed[..<end])
            let rest = String(trimmed[end...]).trimmingSpaces
            arguments = rest.isEmpty ? .null : .string(rest)
        } else if let pairs = node.pairs, let module = node["module"]?.string {
            written = module
            var dict = ValueDict()
            for pair in pairs {
                let k = YAMLJSON.keyText(pair.key)
                guard k != "module" else { continue }
                dict[k] = Value(pair.value)
                locations[k] = doc.location(of: pair.key)
            }
            arguments = .dict(dict)
        } else {
            throw ParseError("'\(key)' takes a module and its arguments ('copy src=a dest=b', or a mapping with 'module:')", at: doc.location(of: node))
        }
        guard let canonical = resolveModule(written) else {
            throw ParseError(unknownKeyMessage(written, what: "module", collections: collections), at: doc.location(of: node))
        }
        return (written, canonical, arguments, locations)
    }

    /// What to say about a key that is neither a keyword here nor a module provision has.
    func unknownKeyMessage(_ key: String, what: String, collections: [String]) -> String {
        if what != "module", let refusal = PlaybookKeywords.refusal(key, on: what) { return refusal }
        if let missing = AnsibleNames.missingModule(key) { return missing }
        let candidates = moduleNames + (what == "module" ? [] : Array(what == "handler" ? PlaybookKeywords.handler : PlaybookKeywords.task))
        let hint = Suggestion.hint(for: key, in: candidates)
        if hint.isEmpty, let collection = collections.first(where: { !$0.hasPrefix("ansible.") }) {
            return "'\(key)' is not a module provision has; it may come from this play's collection \(collection), which provision does not implement"
        }
        return what == "module" ? "no module '\(key)'\(hint)" : "'\(key)' is neither a module nor a \(what) keyword\(hint)"
    }

    func loopControl(_ node: YAMLNode, in doc: LoadedFile) throws -> LoopControl {
        var control = LoopControl()
        guard let lc = node["loop_control"] else { return control }
        guard let pairs = lc.pairs else { throw ParseError("loop_control must be a mapping", at: doc.location(of: lc)) }
        try throwIfAny(keyProblems(pairs, allowed: PlaybookKeywords.loopControl, what: "loop_control", in: doc))
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

    /// One problem per key that is not among `allowed` (modules are checked by the task itself).
    func keyProblems(_ pairs: [YAMLPair], allowed: Set<String>, what: String, in doc: LoadedFile) -> [Error] {
        pairs.compactMap { pair -> Error? in
            let key = YAMLJSON.keyText(pair.key)
            if allowed.contains(key) { return nil }
            let message = PlaybookKeywords.refusal(key, on: what).map { $0.contains("'\(key)'") ? $0 : "'\(key)': \($0)" }
                ?? (what == "block" ? AnsibleNames.missingModule(key).map { "a block runs tasks, not a module: \($0)" } : nil)
                ?? "'\(key)' is not a \(what) keyword\(Suggestion.hint(for: key, in: Array(allowed)))"
            return ParseError(message, at: doc.location(of: pair.key))
        }
    }

    func throwIfAny(_ problems: [Error]) throws {
        if problems.count == 1 { throw problems[0] }
        if !problems.isEmpty { throw ParseErrors(problems) }
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

    func integerOrTemplate(_ node: YAMLNode, _ key: String, in doc: LoadedFile) throws -> Value {
        switch node.value {
        case .int(let n): return .int(n)
        case .string(let s) where Templar.containsTemplate(s): return .string(s)
        case .string(let s) where Int(s.trimmingSpaces) != nil: return .int(Int(s.trimmingSpaces) ?? 0)
        default: throw ParseError("'\(key)' must be a whole number", at: doc.location(of: node))
        }
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
