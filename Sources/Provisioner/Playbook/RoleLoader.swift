import Foundation

/// Roles as Ansible loads them: `roles:` entries and `import_role` at load time, `include_role`
/// when reached; each role's `meta/main.yml` dependencies come first, once per play unless the
/// role allows duplicates. A role's tasks become one block tagged with the role, so the engine can
/// run a role once per host and find its handlers, defaults and vars.
extension PlaybookLoader {
    /// Keywords of a role entry (`- role: x` + keywords) that provision carries out; any other key is a role parameter.
    static let roleEntryKeywords: Set<String> = PlaybookKeywords.shared.union(["role", "when", "delegate_to"])
    /// Role keywords Ansible has that provision does not carry out on a role: refused, never taken as parameters.
    static let unsupportedRoleEntryKeywords: Set<String> = ["timeout", "debugger", "become_flags", "become_exe", "delegate_facts"]
    /// `include_role` / `import_role` arguments.
    static let roleTaskArguments: Set<String> = [
        "name", "tasks_from", "vars_from", "defaults_from", "handlers_from", "public", "allow_duplicates",
        "apply", "rolespec_validate",
    ]

    /// One role to load: its name as written and the keywords its tasks inherit.
    struct RoleRequest {
        var name: String
        var nameLocation: SourceLocation
        var common: TaskCommon
        var params = ValueDict()
        var files = RoleFiles()
        /// Roles of `roles:` and dependencies (nil) run once per play for the same parameters unless
        /// their meta allows duplicates; import_role/include_role say it with `allow_duplicates`.
        var once: Bool?
        /// Where relative role names resolve (the playbook's folder).
        var directory: String
        /// How the role is entered: `.role` (roles:, dependencies, import_role) or an include.
        var stepKind = IncludeStep.Kind.role
    }

    // MARK: Role entries

    /// A `roles:` or `dependencies:` entry: a name, or a mapping with `role:` (or `name:`), keywords and parameters.
    func roleRequest(_ node: YAMLNode, in doc: LoadedFile, inherited: TaskCommon, directory: String) throws -> RoleRequest {
        let nameNode = node.string != nil ? node : (node["role"] ?? node["name"])
        guard let nameNode, let name = nameNode.string, !name.isEmpty else {
            throw ParseError("a role entry is a name or a mapping with 'role: NAME'", at: doc.location(of: node))
        }
        var common = inherited
        common.location = doc.location(of: node)
        var params = ValueDict()
        if let pairs = node.pairs {
            for pair in pairs {
                let key = YAMLJSON.keyText(pair.key)
                if PlaybookLoader.unsupportedRoleEntryKeywords.contains(key) {
                    throw ParseError("'\(key)' on a role entry is an Ansible keyword provision does not carry out on roles yet; "
                        + "set it on the role's tasks instead", at: doc.location(of: pair.key))
                }
                if !PlaybookLoader.roleEntryKeywords.contains(key) { params[key] = Value(pair.value) }
            }
            try applyKeywords(of: node, to: &common, in: doc)
            common.vars = common.vars.merging(params)
        }
        guard !Templar.containsTemplate(name) else {
            throw ParseError("a role named in 'roles:' or 'dependencies:' is loaded before the run: its name cannot use variables (use include_role)",
                             at: doc.location(of: nameNode))
        }
        return RoleRequest(name: name, nameLocation: doc.location(of: nameNode), common: common, params: params,
                           once: nil, directory: directory)
    }

    /// The keywords a role entry, `apply:` or import statement gives the tasks under it.
    func applyKeywords(of node: YAMLNode, to common: inout TaskCommon, in doc: LoadedFile) throws {
        let location = common.location
        common = try commonKeywords(node, in: doc, inherited: common)
        common.location = location
    }

    // MARK: Loading

    /// A role's dependencies, then its tasks as one block; the role's folder is found under `roles/`
    /// beside the playbook, then `roles_path`, then as a path.
    func loadRole(_ request: RoleRequest) throws -> [TaskItem] {
        let path = try rolePath(request.name, at: request.nameLocation, from: request.directory)
        let step = IncludeStep(location: request.nameLocation, file: path, kind: request.stepKind)
        try checkRecursion(step, chain: request.common.includes)
        var common = request.common
        common.includes.append(step)

        let meta = try roleMeta(path)
        var items: [TaskItem] = []
        for dependency in meta.dependencies {
            var inherited = common
            inherited.role = nil
            items += try loadRole(try roleRequest(dependency.node, in: dependency.doc, inherited: inherited, directory: request.directory))
        }

        let context = RoleContext(name: request.name, path: path,
                                  defaults: try roleVarsFile(path, "defaults", request.files.defaults, at: request.nameLocation),
                                  vars: try roleVarsFile(path, "vars", request.files.vars, at: request.nameLocation))
        common.role = context
        var handlerCommon = common
        handlerCommon.when = []
        let tasks = try roleFile(path, "tasks", request.files.tasks, at: request.nameLocation).map { try loadTaskFile($0, common: common) } ?? []
        let handlers = try roleFile(path, "handlers", request.files.handlers, at: request.nameLocation)
            .map { try loadTaskFile($0, common: handlerCommon).flatMap(\.flattenedTasks) } ?? []
        var blockCommon = common
        blockCommon.when = []
        let once = request.once ?? !meta.allowDuplicates
        let key = once ? roleKey(path, request) : nil
        items.append(.block(Block(name: nil, tasks: tasks, rescue: [], always: [], common: blockCommon,
                                  role: RoleRun(key: key, handlers: handlers, handlersFile: "\(path)/handlers/\(request.files.handlers)"))))
        return items
    }

    /// Ansible's identity of a role run: the role with its parameters, keywords and files.
    func roleKey(_ path: String, _ request: RoleRequest) -> String {
        var identity = ValueDict()
        identity["params"] = .dict(request.params)
        identity["when"] = .list(request.common.when)
        identity["tags"] = .list(request.common.tags.map(Value.string))
        identity["files"] = .list(request.files.all.map(Value.string))
        return path + "\u{0}" + Value.dict(identity).json
    }

    func rolePath(_ name: String, at location: SourceLocation, from directory: String) throws -> String {
        let candidates = ([directory + "/roles"] + rolesPath).map { "\($0)/\(name)" } + [resolve(name, against: directory)]
        guard let path = candidates.first(where: { isDirectory($0) }) else {
            let hint = name.split(separator: ".").count >= 3
                ? " (collection roles such as '\(name)' are not supported: copy the role into roles/)" : ""
            throw ParseError("role '\(name)' not found (looked in \(candidates.joined(separator: ", ")))\(hint)", at: location)
        }
        return (path as NSString).standardizingPath
    }

    /// `tasks/main.yml` or `tasks/NAME(.yml|.yaml)`; nil when `main` is absent (a role may have no tasks).
    func roleFile(_ path: String, _ folder: String, _ name: String, at location: SourceLocation) throws -> String? {
        let base = "\(path)/\(folder)/\(name)"
        let candidates = name.hasSuffix(".yml") || name.hasSuffix(".yaml") ? [base] : [base + ".yml", base + ".yaml", base]
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) && !isDirectory($0) }) { return found }
        if name == "main" { return nil }
        throw ParseError("role '\((path as NSString).lastPathComponent)' has no \(folder)/\(name) (\(folder)_from: \(name))", at: location)
    }

    func roleVarsFile(_ path: String, _ folder: String, _ name: String, at location: SourceLocation) throws -> ValueDict {
        guard let file = try roleFile(path, folder, name, at: location) else { return ValueDict() }
        let vars = try loadDocument(file)
        if vars.root.isNull { return ValueDict() }
        return try mapping(vars.root, "\(folder)/\((file as NSString).lastPathComponent)", in: vars)
    }

    struct RoleMeta {
        var dependencies: [(node: YAMLNode, doc: LoadedFile)] = []
        var allowDuplicates = false
    }

    /// `meta/main.yml`: `dependencies` and `allow_duplicates`; `argument_specs` is refused (not validated yet).
    func roleMeta(_ path: String) throws -> RoleMeta {
        var meta = RoleMeta()
        for name in ["argument_specs.yml", "argument_specs.yaml"] where FileManager.default.fileExists(atPath: "\(path)/meta/\(name)") {
            throw ParseError("role '\((path as NSString).lastPathComponent)' declares argument_specs, which provision does not validate yet; "
                + "remove meta/\(name) or check the role's arguments with assert tasks", at: SourceLocation(file: "\(path)/meta/\(name)", line: 1, column: 1))
        }
        guard let file = try roleFile(path, "meta", "main", at: SourceLocation(file: path, line: 1, column: 1)) else { return meta }
        let doc = try loadDocument(file)
        if doc.root.isNull { return meta }
        guard doc.root.pairs != nil else { throw ParseError("meta/main.yml must be a mapping", at: doc.location(of: doc.root)) }
        if let specs = doc.root["argument_specs"] {
            throw ParseError("this role declares argument_specs, which provision does not validate yet; remove them or check the role's "
                + "arguments with assert tasks", at: doc.location(of: specs))
        }
        if let allow = doc.root["allow_duplicates"] { meta.allowDuplicates = try boolean(allow, "allow_duplicates", in: doc) }
        if let deps = doc.root["dependencies"], !deps.isNull {
            guard let items = deps.items else { throw ParseError("'dependencies' must be a list of roles", at: doc.location(of: deps)) }
            meta.dependencies = items.map { ($0, doc) }
        }
        return meta
    }

    // MARK: import_role / include_role

    /// `import_role` (the role's blocks, now) or `include_role` (an include, loaded when reached).
    func roleTask(_ key: String, _ argsNode: YAMLNode, node: YAMLNode, in doc: LoadedFile,
                  inherited: TaskCommon, common: TaskCommon) throws -> [TaskItem] {
        let isImport = key.hasSuffix("import_role")
        let location = doc.location(of: argsNode)
        guard let pairs = argsNode.pairs else {
            throw ParseError("\(key) takes a mapping with 'name: ROLE' (and tasks_from, vars_from, ...)", at: location)
        }
        for pair in pairs where !PlaybookLoader.roleTaskArguments.contains(YAMLJSON.keyText(pair.key)) {
            let name = YAMLJSON.keyText(pair.key)
            throw ParseError("'\(name)' is not an argument of \(key)\(Suggestion.hint(for: name, in: Array(PlaybookLoader.roleTaskArguments)))",
                             at: doc.location(of: pair.key))
        }
        guard let nameNode = argsNode["name"], let name = nameNode.string, !name.isEmpty else {
            throw ParseError("\(key) needs 'name: ROLE'", at: location)
        }
        var files = RoleFiles()
        for (argument, path) in [("tasks_from", \RoleFiles.tasks), ("vars_from", \.vars), ("defaults_from", \.defaults), ("handlers_from", \.handlers)] {
            if let v = argsNode[argument] { files[keyPath: path] = try scalarText(v, argument, in: doc) }
        }
        let allowDuplicates = try argsNode["allow_duplicates"].map { try boolean($0, "allow_duplicates", in: doc) } ?? true
        let isPublic = try argsNode["public"].map { try boolean($0, "public", in: doc) }
        if let v = argsNode["rolespec_validate"] { _ = try boolean(v, "rolespec_validate", in: doc) }

        if isImport {
            if let apply = argsNode["apply"] { throw ParseError("'apply' is for include_role; import_role passes its keywords on as they are", at: doc.location(of: apply)) }
            if isPublic == false {
                throw ParseError("import_role is static: its vars and defaults are always public (use include_role for private ones)", at: location)
            }
            if ([name] + files.all).contains(where: Templar.containsTemplate) {
                throw ParseError("import_role is static: its name and *_from files cannot use variables (use include_role)", at: location)
            }
            var request = RoleRequest(name: name, nameLocation: doc.location(of: nameNode), common: common, files: files,
                                      once: !allowDuplicates, directory: playbookDirectory(of: common))
            request.common.location = doc.location(of: node)
            return try loadRole(request)
        }

        let role = RoleInclude(name: name, files: files, isPublic: isPublic ?? false, allowDuplicates: allowDuplicates,
                               location: doc.location(of: nameNode), directory: playbookDirectory(of: common))
        var include = try include(name, node: node, in: doc, inherited: inherited, common: common, apply: argsNode["apply"])
        include.role = role
        include.preloaded = try preload(role, common: include.tasksCommon, isConditional: include.isConditional)
        return [.include(include)]
    }

    /// The role an `include_role` names, loaded now when its name and files are static (for `validate`).
    func preload(_ role: RoleInclude, common: TaskCommon, isConditional: Bool) throws -> StaticInclude? {
        guard !([role.name] + role.files.all).contains(where: Templar.containsTemplate) else { return nil }
        do {
            let path = try rolePath(role.name, at: role.location, from: role.directory)
            if common.includes.contains(where: { $0.file == path }) {
                try checkRecursion(IncludeStep(location: role.location, file: path, kind: .include(conditional: isConditional)), chain: common.includes)
                return .recursive
            }
            return .loaded(try loadIncludedRole(role, common: common, conditional: isConditional))
        } catch let error as ParseError {
            return .failed(error)
        }
    }

    /// The tasks of an `include_role` (run time, or preloading): rendered names, the include's common.
    public func loadIncludedRole(_ role: RoleInclude, common: TaskCommon, conditional: Bool) throws -> [TaskItem] {
        var request = RoleRequest(name: role.name, nameLocation: role.location, common: common,
                                  files: role.files,
                                  once: !role.allowDuplicates, directory: role.directory)
        // The include is the step into the role: recursion through a conditional include may end.
        request.stepKind = .include(conditional: conditional)
        return try loadRole(request)
    }

    /// The playbook's folder, where `roles/` is: the folder of the first file in the chain.
    func playbookDirectory(of common: TaskCommon) -> String {
        if let first = common.includes.first { return (first.location.file as NSString).deletingLastPathComponent }
        return (common.location.file as NSString).deletingLastPathComponent
    }
}
