/// The filter, test and lookup names a template uses, checked before any host is contacted: a name
/// provision lacks is an error at validate time (said as "not implemented yet" when Ansible has it).
enum TemplateNameCheck {
    /// Problems of `text` (a template string, or a bare expression as `when:` holds): its syntax,
    /// then each unknown name, with the line and column inside the text when it has several lines.
    static func problems(in text: String, expression: Bool) -> [String] {
        if !expression && !Templar.containsTemplate(text) { return [] }
        var uses: [(kind: String, name: String)] = []
        do {
            if expression && !Templar.containsTemplate(text) {
                collect(try TemplateCache.shared.expression(text), into: &uses)
            } else {
                for node in try TemplateCache.shared.template(text, escapeBackslashes: true).nodes { collect(node, into: &uses) }
            }
        } catch let error as TemplateError {
            return ["\(error)"]
        } catch {
            return ["\(error)"]
        }
        return uses.compactMap { use in problem(kind: use.kind, name: use.name) }
    }

    static func problem(kind: String, name: String) -> String? {
        let short = ["ansible.builtin.", "ansible.legacy."].reduce(name) { $0.hasPrefix($1) ? String($0.dropFirst($1.count)) : $0 }
        let known: Bool
        let ansible: Set<String>
        let ours: [String]
        switch kind {
        case "filter": (known, ansible, ours) = (TemplateFilters.named(name) != nil, AnsibleNames.filters, TemplateFilters.names)
        case "test": (known, ansible, ours) = (TemplateTests.named(name) != nil, AnsibleNames.tests, TemplateTests.names)
        default: (known, ansible, ours) = (TemplateGlobals.lookups.contains(short), AnsibleNames.lookups, TemplateGlobals.lookups)
        }
        if known { return nil }
        if ansible.contains(short) { return "'\(name)' is an Ansible \(kind) provision does not implement yet" }
        if name.split(separator: ".").count >= 3 {
            return "'\(name)' is a \(kind) of an Ansible collection, which provision does not implement"
        }
        return "no \(kind) named '\(name)'\(Suggestion.hint(for: name, in: ours))"
    }

    static func collect(_ node: TemplateNode, into uses: inout [(kind: String, name: String)]) {
        switch node {
        case .text: break
        case .output(let e, _): collect(e, into: &uses)
        case .ifBlock(let branches, let otherwise):
            for branch in branches {
                collect(branch.condition, into: &uses)
                for inner in branch.body { collect(inner, into: &uses) }
            }
            for inner in otherwise { collect(inner, into: &uses) }
        case .forBlock(let loop):
            collect(loop.iterable, into: &uses)
            if let condition = loop.condition { collect(condition, into: &uses) }
            for inner in loop.body + loop.otherwise { collect(inner, into: &uses) }
        case .set(_, let e, _), .setAttribute(_, _, let e, _): collect(e, into: &uses)
        case .setBlock(_, let body): for inner in body { collect(inner, into: &uses) }
        case .with(let assignments, let body):
            for assignment in assignments { collect(assignment.value, into: &uses) }
            for inner in body { collect(inner, into: &uses) }
        case .macro(let macro):
            for parameter in macro.parameters { if let value = parameter.defaultValue { collect(value, into: &uses) } }
            for inner in macro.body { collect(inner, into: &uses) }
        case .callBlock(let call, let body, _):
            collect(call, into: &uses)
            for inner in body { collect(inner, into: &uses) }
        }
    }

    /// Filters that name other filters or tests in their arguments: `map('lower')`, `select('match', ...)`.
    static func namedInside(_ filter: String, _ a: TemplateCallArguments, into uses: inout [(kind: String, name: String)]) {
        let position: (kind: String, index: Int)?
        switch filter {
        case "map": position = ("filter", 0)
        case "select", "reject": position = ("test", 0)
        case "selectattr", "rejectattr": position = ("test", 1)
        default: position = nil
        }
        guard let position, a.positional.count > position.index, case .literal(.string(let name)) = a.positional[position.index] else { return }
        // map('attribute=x') style keywords are not names; map's first string is a filter unless it names an attribute.
        if filter == "map", a.keywords.contains(where: { $0.name == "attribute" }) { return }
        uses.append((position.kind, name))
    }

    static func collect(_ e: TemplateExpression, into uses: inout [(kind: String, name: String)]) {
        func arguments(_ a: TemplateCallArguments) {
            for p in a.positional { collect(p, into: &uses) }
            for k in a.keywords { collect(k.value, into: &uses) }
        }
        switch e {
        case .literal, .name: break
        case .list(let items), .tuple(let items), .concat(let items): for item in items { collect(item, into: &uses) }
        case .dict(let pairs):
            for pair in pairs {
                collect(pair.key, into: &uses)
                collect(pair.value, into: &uses)
            }
        case .attribute(let base, _, _), .negate(let base, _), .plus(let base, _), .not(let base): collect(base, into: &uses)
        case .item(let base, let index, _):
            collect(base, into: &uses)
            collect(index, into: &uses)
        case .slice(let base, let start, let stop, let step, _):
            for part in [base, start, stop, step].compactMap({ $0 }) { collect(part, into: &uses) }
        case .and(let a, let b), .or(let a, let b), .binary(_, let a, let b, _):
            collect(a, into: &uses)
            collect(b, into: &uses)
        case .compare(let first, let rest):
            collect(first, into: &uses)
            for part in rest { collect(part.operand, into: &uses) }
        case .conditional(let then, let condition, let otherwise):
            for part in [then, condition, otherwise].compactMap({ $0 }) { collect(part, into: &uses) }
        case .filter(let base, let name, let a, _):
            collect(base, into: &uses)
            uses.append(("filter", name))
            namedInside(name, a, into: &uses)
            arguments(a)
        case .test(let base, let name, let a, _):
            collect(base, into: &uses)
            uses.append(("test", name))
            arguments(a)
        case .call(let callee, let a, _):
            if case .name(let function, _) = callee, ["lookup", "query", "q"].contains(function),
               case .literal(.string(let plugin))? = a.positional.first {
                uses.append(("lookup", plugin))
            }
            collect(callee, into: &uses)
            arguments(a)
        }
    }
}
