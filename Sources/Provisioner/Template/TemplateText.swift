/// Renders parsed template nodes: text, `{{ }}` output as Python's `str()`, and the
/// `{% %}` statements with Jinja2's scoping (a `for` body has its own scope; `if` has none).
extension TemplateEvaluator {
    /// Loop iterations one render may run; nested `range()`s cannot hang a run.
    static let maxIterations = 1_000_000
    /// Characters one render may produce.
    static let maxOutput = 64 << 20

    mutating func render(_ nodes: [TemplateNode], into out: inout String, budget: inout Int) throws {
        for node in nodes {
            switch node {
            case .text(let text):
                out += text
            case .output(let expression, _):
                out += try value(expression).pythonText
                guard out.utf8.count <= Self.maxOutput else { throw TemplateError("template output exceeds \(Self.maxOutput >> 20) MiB") }
            case .ifBlock(let branches, let otherwise):
                if let branch = try branches.first(where: { try truth($0.condition) }) {
                    try render(branch.body, into: &out, budget: &budget)
                } else {
                    try render(otherwise, into: &out, budget: &budget)
                }
            case .forBlock(let loop):
                try renderLoop(loop, into: &out, budget: &budget)
            case .set(let targets, let expression, let at):
                try assign(targets, try value(expression), at: at)
            case .setAttribute(let object, let attribute, let expression, let at):
                let v = try value(expression)
                guard let index = scopes.lastIndex(where: { $0[object] != nil }), case .dict(var d)? = scopes[index][object] else {
                    throw TemplateError("can't assign attribute '\(attribute)' of '\(object)': it is not a namespace() defined in this template", at: at)
                }
                d[attribute] = v
                scopes[index][object] = .dict(d)
            case .setBlock(let target, let body):
                var text = ""
                try render(body, into: &text, budget: &budget)
                scopes[scopes.count - 1][target] = .string(text)
            case .with(let assignments, let body):
                var scope: [String: Value] = [:]
                for (name, expression) in assignments { scope[name] = try value(expression) }
                scopes.append(scope)
                defer { scopes.removeLast() }
                try render(body, into: &out, budget: &budget)
            case .macro(let macro):
                locals.macroState.macros[macro.name] = macro
            case .callBlock(.call(.name(let name, _), let call, _), let body, let at):
                guard let macro = macro(named: name) else { throw TemplateError("'\(name)' is undefined: call blocks call macros", at: at) }
                out += try self.call(macro, try arguments(call, for: "macro '\(name)'"), caller: body).get().pythonText
            case .callBlock(_, _, let at):
                throw TemplateError("expected a macro call after 'call'", at: at)
            }
        }
    }

    mutating func assign(_ targets: [String], _ value: Value, at offset: Int) throws {
        if scopes.isEmpty { scopes.append([:]) }
        guard targets.count > 1 else {
            scopes[scopes.count - 1][targets[0]] = value
            return
        }
        let items = try unpack(value, into: targets.count, at: offset)
        for (name, item) in zip(targets, items) { scopes[scopes.count - 1][name] = item }
    }

    func unpack(_ value: Value, into count: Int, at offset: Int) throws -> [Value] {
        let items: [Value]
        switch value {
        case .list(let l): items = l
        case .string(let s): items = s.unicodeScalars.map { .string(String($0)) }
        case .dict(let d): items = d.keys.map { .string($0) }
        default: throw TemplateError("cannot unpack non-iterable \(value.typeName) object", at: offset)
        }
        guard items.count == count else {
            throw TemplateError(items.count > count ? "too many values to unpack (expected \(count))"
                                                    : "not enough values to unpack (expected \(count), got \(items.count))", at: offset)
        }
        return items
    }

    mutating func renderLoop(_ loop: TemplateForLoop, into out: inout String, budget: inout Int) throws {
        let iterable = try value(loop.iterable)
        var items: [Value]
        switch iterable {
        case .list(let l): items = l
        case .dict(let d): items = d.keys.map { .string($0) }
        case .string(let s): items = s.unicodeScalars.map { .string(String($0)) }
        default: throw TemplateError("'\(iterable.typeName)' object is not iterable", at: loop.at)
        }
        func bind(_ item: Value) throws -> [String: Value] {
            if loop.targets.count == 1 { return [loop.targets[0]: item] }
            return Dictionary(uniqueKeysWithValues: zip(loop.targets, try unpack(item, into: loop.targets.count, at: loop.at)))
        }
        if let condition = loop.condition {
            // `for x in xs if cond`: filtered first, so loop.length and loop.last count only kept items.
            items = try items.filter { item in
                scopes.append(try bind(item))
                defer { scopes.removeLast() }
                return try truth(condition)
            }
        }
        guard !items.isEmpty else {
            try render(loop.otherwise, into: &out, budget: &budget)
            return
        }
        loops.append(TemplateLoopState(items: items, scopeDepth: scopes.count))
        defer { loops.removeLast() }
        for (index, item) in items.enumerated() {
            budget -= 1
            guard budget >= 0 else { throw TemplateError("template loops ran more than \(Self.maxIterations) iterations", at: loop.at) }
            loops[loops.count - 1].index = index
            scopes.append(try bind(item))
            defer { scopes.removeLast() }
            try render(loop.body, into: &out, budget: &budget)
        }
    }

    // MARK: Whole templates

    /// Renders a template string the way Ansible does: one `{{ expr }}` keeps its type;
    /// anything else is text, with the template's trailing newlines kept.
    func renderNative(_ text: String) throws -> Value {
        guard Templar.containsTemplate(text) else { return .string(text) }
        let parsed = try TemplateCache.shared.template(text, escapeBackslashes: true)
        if let expression = parsed.singleExpression {
            let v = try value(expression)
            guard case .string(let s) = v else { return v }
            return .string(Self.restoringNewlines(s, parsed.trailingNewlines))
        }
        return .string(try renderText(parsed))
    }

    func renderText(_ parsed: ParsedTemplate) throws -> String {
        var renderer = TemplateEvaluator(context: context, resolving: resolving)
        renderer.scopes.append([:])
        var out = ""
        var budget = Self.maxIterations
        try renderer.render(parsed.nodes, into: &out, budget: &budget)
        return Self.restoringNewlines(out, parsed.trailingNewlines)
    }

    /// Ansible adds back trailing newlines Jinja2 dropped, up to the template's own count.
    static func restoringNewlines(_ s: String, _ wanted: Int) -> String {
        guard wanted > 0 else { return s }
        var have = 0
        for b in s.utf8.reversed() {
            guard b == UInt8(ascii: "\n") else { break }
            have += 1
        }
        return have >= wanted ? s : s + String(repeating: "\n", count: wanted - have)
    }

    /// Renders every string inside a value (lists and dicts recursively, keys too).
    func renderValue(_ value: Value) throws -> Value {
        switch value {
        case .string(let s): return try renderNative(s)
        case .unsafe(let v): return v.plain
        case .list(let items): return .list(try items.map(renderValue))
        case .dict(let d):
            var rendered = ValueDict()
            for (key, item) in d {
                let k = Templar.containsTemplate(key) ? try renderNative(key).pythonText : key
                rendered[k] = try renderValue(item)
            }
            return .dict(rendered)
        default: return value
        }
    }
}

/// The local variables of one render.
final class TemplateLocals {
    var scopes: [[String: Value]] = []
    var macroState = TemplateMacroState()
}

/// Jinja2's `loop` variable for one running `for`.
struct TemplateLoopState {
    let items: [Value]
    var index = 0
    /// The scope that holds this loop's iteration variables.
    let scopeDepth: Int

    func attribute(_ name: String) -> Value? {
        let length = items.count
        switch name {
        case "index": return .int(index + 1)
        case "index0": return .int(index)
        case "revindex": return .int(length - index)
        case "revindex0": return .int(length - index - 1)
        case "first": return .bool(index == 0)
        case "last": return .bool(index == length - 1)
        case "length": return .int(length)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        // `Value` is nil-literal-expressible, so spell out the missing case.
        case "previtem": return index > 0 ? items[index - 1] : Optional<Value>.none
        case "nextitem": return index < length - 1 ? items[index + 1] : Optional<Value>.none
        default: return nil
        }
    }

    var dictionary: ValueDict {
        var d = ValueDict()
        for key in ["index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem"] {
            d[key] = attribute(key)
        }
        return d
    }
}
