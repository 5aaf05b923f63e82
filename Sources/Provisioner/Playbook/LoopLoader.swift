import Foundation

/// `loop:` and Ansible's `with_<lookup>:` loops, `vars_files` entries, and what a play's static
/// roles expose to it.
extension PlaybookLoader {
    /// The lookup a `with_X` key names, when it is one.
    static func loopLookup(_ key: String) -> String? {
        guard key.hasPrefix("with_") else { return nil }
        let name = String(key.dropFirst(5))
        return AnsibleNames.lookups.contains(name) || TemplateGlobals.lookups.contains(name) ? name : nil
    }

    /// The task's loop: `loop:` (a list or a template giving one) or `with_X:` (terms for lookup X).
    func loop(of node: YAMLNode, in doc: LoadedFile) throws -> (Value?, String?) {
        var found: [(key: String, node: YAMLNode)] = []
        for pair in node.pairs ?? [] {
            let key = YAMLJSON.keyText(pair.key)
            if key == "loop" || PlaybookLoader.loopLookup(key) != nil { found.append((key, pair.value)) }
        }
        if found.count > 1 {
            throw ParseError("a task has one loop; this one has \(found.map(\.key).joined(separator: " and "))", at: doc.location(of: found[1].node))
        }
        guard let (key, loop) = found.first else { return (nil, nil) }
        if key == "loop" {
            switch loop.value {
            case .sequence, .string: return (Value(loop), nil)
            default:
                throw ParseError("'loop' takes a list or a template that gives one (\"{{ my_list }}\")", at: doc.location(of: loop))
            }
        }
        let lookup = String(key.dropFirst(5))
        guard TemplateGlobals.lookups.contains(lookup) else {
            throw ParseError("'\(key)' loops over the '\(lookup)' lookup, which provision does not implement yet", at: doc.location(of: loop))
        }
        return (Value(loop), lookup)
    }

    /// `async:`/`poll:` on a task; `poll` alone is refused (it means nothing without `async`).
    func asyncSettings(_ node: YAMLNode, in doc: LoadedFile) throws -> AsyncSettings? {
        guard let seconds = node["async"] else {
            if let poll = node["poll"] { throw ParseError("'poll' goes with 'async' (how long the task may run)", at: doc.location(of: poll)) }
            return nil
        }
        for (key, value) in [("async", seconds), ("poll", node["poll"])] {
            guard let value else { continue }
            switch value.value {
            case .int(let n) where n >= 0: continue
            case .string(let s) where Templar.containsTemplate(s): continue
            default: throw ParseError("'\(key)' must be a whole number of seconds", at: doc.location(of: value))
            }
        }
        return AsyncSettings(seconds: Value(seconds), poll: node["poll"].map(Value.init))
    }

    /// `vars_files`: each entry a file, or a list of files of which the first found is read.
    func varsFiles(_ node: YAMLNode, in doc: LoadedFile) throws -> [[String]] {
        guard let items = node.items else { return [[try scalarText(node, "vars_files", in: doc)]] }
        return try items.map { item in
            if let candidates = item.items { return try candidates.map { try scalarText($0, "vars_files", in: doc) } }
            return [try scalarText(item, "vars_files", in: doc)]
        }
    }
}

extension Play {
    /// Roles loaded with the play (`roles:`, `import_role`, their dependencies) expose their defaults
    /// and vars to the whole play and add their handlers, once per role file, as Ansible does.
    mutating func exposeStaticRoles() {
        var handlerFiles = Set<String>()
        var roleHandlers: [Task] = []
        func visit(_ items: [TaskItem]) {
            for item in items {
                guard case .block(let block) = item else { continue }
                if let run = block.role, let context = block.common.role {
                    if handlerFiles.insert(run.handlersFile).inserted { roleHandlers += run.handlers }
                    roleDefaults = roleDefaults.merging(context.defaults)
                    roleVars = roleVars.merging(context.vars)
                }
                visit(block.tasks + block.rescue + block.always)
            }
        }
        visit(tasks)
        handlers = roleHandlers + handlers
    }
}
